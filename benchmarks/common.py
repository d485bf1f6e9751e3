"""Timing helpers and the result table shared by the benchmarks."""

import json
import os
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
    widths = [
        max(_width(h), *(_width(line[i]) for line in lines)) if lines else _width(h)
        for i, h in enumerate(headers)
    ]
    out = [_line(headers, widths), _line(tuple("-" * w for w in widths), widths)]
    out.extend(_line(line, widths) for line in lines)
    return "\n".join(out)


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
