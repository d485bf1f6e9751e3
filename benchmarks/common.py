"""Timing helpers and the result table shared by the benchmarks."""

import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeat: int) -> list[float]:
    """Milliseconds per call of ``fn``, ``repeat`` times."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def progress(message: str) -> None:
    print(f"  … {message}", flush=True)


@dataclass
class Row:
    name: str
    figure: float
    baseline: float
    unit: str
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("inf")


RESULTS: list[Row] = []


def record(name: str, figure: float, baseline: float, unit: str, *, target="", met=None) -> Row:
    """Keep a figure for the final table and print it at once."""
    row = Row(name, figure, baseline, unit, target, met)
    RESULTS.append(row)
    print(
        f"{name:<52} {figure:10.2f} {unit:<3} baseline {baseline:10.2f} {unit:<3}"
        f" ratio {row.ratio:6.2f}×",
        flush=True,
    )
    return row


def record_percentiles(name: str, ours: list[float], baseline: list[float], target_ms: float):
    """p50 and p95 of ``ours`` beside ``baseline`` (milliseconds), the target on the p95."""
    record(f"{name} p50", p50(ours), p50(baseline), "ms")
    record(
        f"{name} p95",
        p95(ours),
        p95(baseline),
        "ms",
        target=f"p95 < {target_ms:.0f} ms",
        met=p95(ours) < target_ms,
    )


def table() -> str:
    headers = ("benchmark", "figure", "baseline", "ratio", "target", "met")
    lines = [
        (
            row.name,
            f"{row.figure:.2f} {row.unit}",
            f"{row.baseline:.2f} {row.unit}",
            f"{row.ratio:.2f}×",
            row.target,
            "" if row.met is None else ("yes" if row.met else "NO"),
        )
        for row in RESULTS
    ]
    return _render(headers, lines)


def _render(headers: tuple, lines: list[tuple]) -> str:
    """A Markdown table, its columns as wide as their widest cell."""
    widths = [
        max(_width(h), *(_width(line[i]) for line in lines)) if lines else _width(h)
        for i, h in enumerate(headers)
    ]
    out = [_line(headers, widths), _line(tuple("-" * w for w in widths), widths)]
    out.extend(_line(line, widths) for line in lines)
    return "\n".join(out)


def kept(*, size: str, students: int) -> dict:
    """This run's figures as ``save`` keeps them."""
    rows = [
        {"name": row.name, "figure": row.figure, "baseline": row.baseline, "unit": row.unit}
        for row in RESULTS
    ]
    return {"size": size, "students": students, "rows": rows}


def save(path: Path, run: dict) -> None:
    """Keep a run's figures (``data/bench-<size>.json``) for a later run to grow from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=1))


def _same_figure(name: str) -> str:
    """A figure's name without its counts ("1,000,000 rows"), which grow with the size."""
    return re.sub(r"(?<![\w/.])\d[\d,]*(?=\s)", "N", name)


def growth(before: dict, after: dict) -> str:
    """How each figure grew from the smaller run ``before`` to ``after`` (issue 19 §1: it
    should grow with the work, as its floor does, not faster); both as ``kept`` gives them.
    ``vs floor`` is the figure's growth over its baseline's: about 1 where the two scale
    alike. For a rate (rows/s) a value below 1 is the slowdown."""
    kept_rows = {(_same_figure(r["name"]), r["unit"]): r for r in before["rows"]}
    headers = ("benchmark", f"at {before['students']:,}", f"at {after['students']:,}",
               "growth", "baseline growth", "vs floor")  # fmt: skip
    lines = []
    for row in after["rows"]:
        old = kept_rows.get((_same_figure(row["name"]), row["unit"]))
        if old is None or not old["figure"] or not old["baseline"] or not row["baseline"]:
            continue
        grew, floor = row["figure"] / old["figure"], row["baseline"] / old["baseline"]
        lines.append(
            (
                _same_figure(row["name"]),
                f"{old['figure']:.2f} {row['unit']}",
                f"{row['figure']:.2f} {row['unit']}",
                f"{grew:.2f}×",
                f"{floor:.2f}×",
                f"{grew / floor:.2f}",
            )
        )
    work = after["students"] / before["students"] if before["students"] else float("inf")
    title = (
        f"growth from {before['size']} ({before['students']:,} students) to "
        f"{after['size']} ({after['students']:,}, {work:.1f}× the students):"
    )
    return f"{title}\n{_render(headers, lines)}"


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _line(cells, widths) -> str:
    return (
        "| "
        + " | ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))
        + " |"
    )


def run_child(module: str, *args: str) -> dict:
    """Run ``python -m <module> <args>`` in a fresh process (its own memory figures) and return
    the JSON object its last line of output prints."""
    result = subprocess.run(  # noqa: S603 — this interpreter, fixed arguments
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
