"""Merge one weight of a @fontsource CJK package into the single woff2 file the documents use.

The package splits the font into ~100 unicode-range subsets. WeasyPrint cannot print those:
every subset has the same family, weight and style, WeasyPrint names the fonts it embeds by that
description, so the subsets end up sharing one PDF font and characters come out as the wrong
glyphs. (It is also slow: each subset is a separate fontconfig registration.) Merged back into
one font, they print correctly and load in a fraction of a second.

Run once when updating the fonts (see README.md next to this file), e.g.::

    cd "$(mktemp -d)" && npm pack @fontsource/noto-serif-sc@5.3.0 && tar xzf *.tgz
    python /path/to/merge_subsets.py package 400 .../noto-serif-sc/NotoSerifSC-Regular.woff2

Takes about a minute (woff2 compression is slow); needs only fontTools with brotli, which
WeasyPrint already installs.
"""

import re
import sys
import tempfile
from pathlib import Path

from fontTools.merge import Merger
from fontTools.ttLib import TTFont
from fontTools.ttLib.woff2 import WOFF2FlavorData


def subset_files(package: Path, weight: str) -> list[Path]:
    """The woff2 files the package's ``<weight>.css`` lists, in the order it lists them."""
    css = (package / f"{weight}.css").read_text(encoding="utf-8")
    names = re.findall(r"url\(\./files/([^)]+?\.woff2)\)", css)
    return [package / "files" / name for name in dict.fromkeys(names)]


def merge(package: Path, weight: str, target: Path) -> None:
    sources = subset_files(package, weight)
    if not sources:
        raise SystemExit(f"{package}/{weight}.css lists no woff2 file")
    with tempfile.TemporaryDirectory() as folder:
        # The merger reads plain TrueType files.
        plain = []
        for index, source in enumerate(sources):
            font = TTFont(source)
            font.flavor = None
            path = Path(folder) / f"{index}.ttf"
            font.save(path)
            plain.append(path)
        merged = Merger().merge(plain)
    merged.flavor = "woff2"
    # No glyf/loca transform: WeasyPrint decodes woff2 with fontTools in pure Python, and undoing
    # that transform took 16 s per font at start; brotli alone decodes in 0.15 s (+20% size).
    merged.flavorData = WOFF2FlavorData(transformedTables=())
    target.parent.mkdir(parents=True, exist_ok=True)
    merged.save(target)
    print(f"{target}: {len(sources)} subsets, {len(merged.getBestCmap())} characters")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    merge(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
