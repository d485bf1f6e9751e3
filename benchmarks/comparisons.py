"""The comparison of a household list (issue 13, speed): a province's 1,000,000 户籍 rows as a
CSV file against the 1,000,000 students of the benchmark database, about 2% of the rows
disagreeing (1.9% children with no 学籍, 0.1% county children whose ID number was mistyped,
found again by the weak pass), and the same for a 100,000-row XLSX file.

Each figure is measured in a process of its own (wall time after Django's start-up, and the
process's peak resident memory, VmHWM):

- end to end: the file in through ``comparisons.sources.source_upload`` as county A's staff,
  then the run it started done as the worker does it (``comparisons.runs.run_execute``):
  mismatches stored;
- the floor, in the same run, honest for an encrypted store: the file read, each row's ID
  number replaced by its look-up hash (``crypto.lookup_hash``) as the rows stream into a
  COPY of a staging table, ANALYZE, and one SQL anti-join on the hash against the students
  (the rows with no student of their ID number);
- an analyst's pandas merge of the two files (the list and a 学籍 export of the students,
  read with ``read_csv``, or ``read_excel`` with calamine), rows without a match counted;
- the weak pass over the unmatched rest (``comparisons.engine.weak_matches``), separately.

The list is one county's upload holding the whole province's children: matching by ID number
is system-wide (学籍 is national), so it compares 1,000,000 rows with 1,000,000 students in
one run; the county's own checks (学籍 against the ledger, 在籍不在校) cover its ~8,000.

    BENCH_COMPARE_ROWS       rows of the CSV list, default 1000000
    BENCH_COMPARE_XLSX_ROWS  rows of the XLSX list, default 100000 (0: skip)
    BENCH_PROFILE            a path: profile the end-to-end child with cProfile, stats there

The files are made from the students' decrypted ID numbers (not timed); the pandas merge
reads the two plain files, as an analyst's CSVs are.

Measured 2026-12-03, ID numbers encrypted at rest (1,000,000 CSV rows, an idle machine):
the upload 26.7 s, the comparison 4.0 s (end to end 30.7 s, 6.4× the floor), the floor 4.8 s
(hashing a million ID numbers in Python is most of it; 1.1 s before they were sealed),
pandas 1.9 s, peak memory 346 MB. 100,000 XLSX rows: end to end 4.6 s, floor 1.4 s, pandas
1.6 s. By a cProfile of the upload, most of its time is Python per row: reading and checking,
sealing the ID number and computing its hash, and formatting it for COPY.
"""

import csv
import datetime
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import progress, record, run_child

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "xian_staff"  # county A (532926)
COUNTY = "532926"
UNKNOWN_SHARE, TYPO_SHARE = 0.019, 0.001
HEADINGS = ["姓名", "身份证号", "出生日期", "性别", "户籍地"]
STUDENT_HEADINGS = ["身份证号", "姓名", "出生日期"]
TARGET_RATIO = 3.0
TARGET_MB = 1024


# -- the files ----------------------------------------------------------------------------------


def _unknown_children(count: int, seed: int) -> list[list[str]]:
    """School-age children of county A with valid ID numbers no student has (sequence
    numbers from 500 up, beyond any the demo students use)."""
    from stdnum.cn import ric

    from accounts.demo import GIVEN, SURNAMES
    from accounts.models import current_school_year
    from comparisons.engine import school_age_births

    rng = random.Random(seed)  # noqa: S311 — benchmark data
    earliest, latest = school_age_births(current_school_year())
    span = (latest - earliest).days
    used: dict[datetime.date, int] = {}
    rows = []
    while len(rows) < count:
        birth = earliest + datetime.timedelta(days=rng.randrange(span))
        n = used.get(birth, 250)
        if n > 499:
            continue
        used[birth] = n + 1
        gender = rng.choice("MF")
        body = f"{COUNTY}{birth:%Y%m%d}{n * 2 + (gender == 'M'):03d}"
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))
        number = body + ric.calc_check_digit(body + "0")
        rows.append([name, number, f"{birth:%Y-%m-%d}", "男" if gender == "M" else "女", ""])
    return rows


def _typo(number: str) -> str:
    """The ID number with its check digit changed."""
    return number[:17] + ("1" if number[17] == "0" else "0")


def _list_rows(matched: int, typos: int) -> Iterator[list[str]]:
    """The students as list rows, their ID numbers decrypted: ``typos`` of county A's with
    the check digit of their ID number changed (their 户籍地 code kept, for the weak pass),
    then ``matched`` others."""
    from students.models import Student

    fields = ("pk", "id_number", "name", "birth_date", "gender", "hukou_region__code")
    students = Student.objects.filter(id_number__isnull=False).order_by("pk")

    def row(number, name, birth, gender, code) -> list[str]:
        region = code if code and code.startswith(COUNTY) else ""
        return [name, number, f"{birth:%Y-%m-%d}", "男" if gender == "M" else "女", region]

    typo_ids = set()
    county = students.filter(hukou_region__code__startswith=COUNTY)[:typos]
    for pk, number, *rest in county.values_list(*fields):
        typo_ids.add(pk)
        yield row(_typo(number), *rest)
    written = 0
    for pk, number, *rest in students.values_list(*fields).iterator(chunk_size=20_000):
        if written == matched:
            return
        if pk not in typo_ids:
            written += 1
            yield row(number, *rest)


def write_files(folder: str, rows: int, xlsx_rows: int) -> dict:
    """The household list (CSV, and its first rows as XLSX) and a 学籍 export of the
    students (CSV) for the pandas merge, from the decrypted ID numbers."""
    import xlsxwriter

    from students.models import Student

    unknown, typos = round(rows * UNKNOWN_SHARE), round(rows * TYPO_SHARE)
    available = Student.objects.filter(id_number__isnull=False).count()
    matched = min(rows - unknown - typos, available - typos)
    paths = {k: os.path.join(folder, n) for k, n in (("csv", "户籍.csv"), ("xlsx", "户籍.xlsx"))}
    paths["students"] = os.path.join(folder, "学籍.csv")
    # Other children each time: the same file again would be recognised and not taken in.
    extra = _unknown_children(unknown, seed=time.time_ns())
    with open(paths["csv"], "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADINGS)
        writer.writerows(_list_rows(matched, typos))
        writer.writerows(extra)
    with open(paths["students"], "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(STUDENT_HEADINGS)
        students = Student.objects.filter(id_number__isnull=False).order_by("pk")
        writer.writerows(
            (number, name, f"{birth:%Y-%m-%d}")
            for number, name, birth in students.values_list(
                "id_number", "name", "birth_date"
            ).iterator(chunk_size=20_000)
        )
    if xlsx_rows:
        # The XLSX list: its share of each kind of row, the unknown children among them.
        head = round(xlsx_rows * (1 - UNKNOWN_SHARE))
        workbook = xlsxwriter.Workbook(paths["xlsx"], {"constant_memory": True})
        sheet = workbook.add_worksheet("户籍")
        sheet.write_row(0, 0, HEADINGS)
        with open(paths["csv"], encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            written = 0
            for cells in reader:
                if written == head:
                    break
                written += 1
                sheet.write_row(written, 0, cells)
        for cells in extra[: xlsx_rows - written]:
            written += 1
            sheet.write_row(written, 0, cells)
        workbook.close()
    return {
        **paths,
        "rows": matched + typos + unknown,
        "mismatches": typos + unknown,
        "typos": typos,
    }


# -- the child processes --------------------------------------------------------------------------


def _peak_mb() -> float:
    from benchmarks.export_child import _peak_mb as peak

    return peak()


def child_end_to_end(path: str) -> dict:
    """The file in through source_upload, the comparison it started done as the worker does."""
    from accounts.models import User
    from comparisons import engine, runs, sources
    from comparisons.models import Run

    user = User.objects.get(username=USERNAME)
    start = time.perf_counter()
    with open(path, "rb") as handle:
        result = sources.source_upload(
            by=user, kind="household", file=handle, name=os.path.basename(path)
        )
    uploaded = time.perf_counter()
    run = getattr(result, "run", None) or runs.run_start(by=user, source=result.source)
    runs.run_execute(run.pk)
    done = time.perf_counter()
    run = Run.objects.get(pk=run.pk)
    # The weak pass alone, over the same unmatched rows, timed apart.
    county = engine.County(run.county)
    rows = result.source.rows.all()
    unmatched = engine._values(
        engine._school_age(rows).filter(~engine._with_student(), ~engine._open_entry())
    )
    weak_start = time.perf_counter()
    weak = engine.weak_matches(unmatched, engine.weak_candidates(county, rows), county)
    weak_seconds = time.perf_counter() - weak_start
    return {
        "status": run.status,
        "message": run.message,
        "counts": run.counts,
        "rows": result.source.row_count,
        "upload_s": uploaded - start,
        "compare_s": done - uploaded,
        "seconds": done - start,
        "weak_s": weak_seconds,
        "weak_rows": len(unmatched),
        "weak_found": len(weak),
        "peak_mb": _peak_mb(),
    }


class _HashedCsv:
    """The list's rows as CSV for COPY, each ID number replaced by its look-up hash (an
    encrypted store keeps no plain ID number to join on), a few hundred rows per read."""

    def __init__(self, rows: Iterator[list]):
        from io import StringIO

        from kongchuo import crypto

        self._rows, self._hash = rows, crypto.lookup_hash
        self._buffer = StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def read(self, size: int = -1) -> str:
        from itertools import islice

        self._buffer.seek(0)
        self._buffer.truncate()
        hashed = self._hash
        self._writer.writerows(
            (name, hashed(str(number).strip()), birth, gender, region)
            for name, number, birth, gender, region in islice(self._rows, 500)
        )
        return self._buffer.getvalue()


def child_floor(path: str) -> dict:
    """Read the file, each row's ID number hashed (``crypto.lookup_hash``) as it is streamed
    into a COPY of a staging table, ANALYZE, one anti-join on the hash against the students."""
    from django.db import connection

    from students.models import Student

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE staging (name text, id_hash text, birth_date text, "
            "gender text, region text)"
        )
        if path.endswith(".xlsx"):
            from python_calamine import CalamineWorkbook

            sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
            cursor.cursor.copy_expert(
                "COPY staging FROM STDIN WITH (FORMAT csv)", _HashedCsv(iter(sheet[1:]))
            )
        else:
            with open(path, encoding="utf-8", newline="") as handle:
                rows = csv.reader(handle)
                next(rows)
                cursor.cursor.copy_expert(
                    "COPY staging FROM STDIN WITH (FORMAT csv)", _HashedCsv(rows)
                )
        # The statistics the planner needs for a (parallel) hash join, as the upload has.
        cursor.execute("ANALYZE staging")
        cursor.execute(
            f"CREATE TEMP TABLE unmatched AS SELECT g.* FROM staging g WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {Student._meta.db_table} s WHERE s.id_hash = g.id_hash)"
        )
        cursor.execute("SELECT count(*) FROM unmatched")
        (unmatched,) = cursor.fetchone()
    return {"seconds": time.perf_counter() - start, "unmatched": unmatched, "peak_mb": _peak_mb()}


def child_pandas(path: str, students: str) -> dict:
    import pandas as pd

    start = time.perf_counter()
    if path.endswith(".xlsx"):
        listed = pd.read_excel(path, dtype=str, engine="calamine")
    else:
        listed = pd.read_csv(path, dtype=str)
    ours = pd.read_csv(students, dtype=str, usecols=["身份证号"])
    merged = listed.merge(ours, on="身份证号", how="left", indicator=True)
    unmatched = int((merged["_merge"] == "left_only").sum())
    return {"seconds": time.perf_counter() - start, "unmatched": unmatched, "peak_mb": _peak_mb()}


def _child(*args: str) -> dict:
    return run_child("benchmarks.comparisons", *args)


# -- the figures ----------------------------------------------------------------------------------


def _measure(label: str, path: str, files: dict, rows: int) -> None:
    ours = _child("end_to_end", path)
    floor = _child("floor", path)
    merged = _child("pandas", path, files["students"])
    progress(
        f"{label}: {ours['status']} {ours['counts']}; upload {ours['upload_s']:.1f} s, "
        f"compare {ours['compare_s']:.1f} s, peak {ours['peak_mb']:.0f} MB; floor "
        f"{floor['seconds']:.1f} s ({floor['unmatched']} unmatched); pandas "
        f"{merged['seconds']:.1f} s ({merged['unmatched']} unmatched)"
    )
    name = f"comparison {rows:,} rows {label}"
    record(
        f"{name}: end to end vs floor (s)",
        ours["seconds"],
        floor["seconds"],
        "s",
        target=f"≤ {TARGET_RATIO:.0f}× floor",
        met=ours["seconds"] <= TARGET_RATIO * floor["seconds"],
    )
    record(
        f"{name}: end to end vs pandas merge (s)",
        ours["seconds"],
        merged["seconds"],
        "s",
        target="< pandas",
        met=ours["seconds"] < merged["seconds"],
    )
    record(
        f"{name}: peak worker memory (MB)",
        ours["peak_mb"],
        merged["peak_mb"],
        "MB",
        target=f"< {TARGET_MB} MB",
        met=ours["peak_mb"] < TARGET_MB,
    )
    record(
        f"{name}: weak pass over {ours['weak_rows']:,} rows ({ours['weak_found']} found) (s)",
        ours["weak_s"],
        ours["compare_s"],
        "s",
    )


def run(rows: int, xlsx_rows: int) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        progress("comparisons: skipped, the figures are PostgreSQL's (COPY, anti-join)")
        return
    # Statistics as autovacuum keeps them in use: the earlier benchmarks' ledger entries and
    # lists were written after the students' ANALYZE.
    from comparisons.models import SourceRow

    # The rows of the lists earlier runs took in, which would only slow this one down.
    SourceRow.objects.filter(source__uploaded_by__username=USERNAME).delete()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with tempfile.TemporaryDirectory(prefix="kongchuo-bench-") as folder:
        start = time.perf_counter()
        files = write_files(folder, rows, xlsx_rows)
        size = os.path.getsize(files["csv"]) / 1e6
        progress(
            f"household list: {files['rows']:,} rows ({files['mismatches']:,} to find, "
            f"{files['typos']:,} by the weak pass), {size:.0f} MB CSV, made in "
            f"{time.perf_counter() - start:.1f} s"
        )
        _measure("CSV", files["csv"], files, files["rows"])
        if xlsx_rows:
            _measure("XLSX", files["xlsx"], files, xlsx_rows)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kongchuo.settings.test")
    import django

    django.setup()
    mode, *args = sys.argv[1:]
    child = {"end_to_end": child_end_to_end, "floor": child_floor, "pandas": child_pandas}[mode]
    if mode == "end_to_end":
        from django.conf import settings

        from comparisons import reading

        # A province's 7,000,000-row list (about 290 MB) is larger than an upload may be (a
        # county's is a fiftieth of it): the limit is lifted for the benchmark's own file.
        size = Path(args[0]).stat().st_size
        settings.COMPARISON_MAX_BYTES = max(reading.max_bytes(), size)
    profile = os.environ.get("BENCH_PROFILE")
    if profile and mode == "end_to_end":
        # BENCH_PROFILE=path: the end-to-end child under cProfile, its statistics dumped there.
        import cProfile

        profiler = cProfile.Profile()
        result = profiler.runcall(child, *args)
        profiler.dump_stats(profile)
    else:
        result = child(*args)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
