"""The county 月报表 workbook for 300 schools (issue 14): a summary sheet and one sheet per
school in the paper form's layout (reports.monthly_jobs.write_county_workbook).

The data (once; kept with BENCH_REUSE=1, detected by its county): a county of its own in the
generated province, BENCH_REPORT_SCHOOLS schools (default 300) over 10 townships, each with
BENCH_REPORT_ROWS confirmed dropouts on its ledger (default 20, so 6,000 rows), written by
bulk inserts with their timeline lines; two thirds of the schools have a signed report for
the period (rows copied into the version), the others have not signed, so both ways a sheet
is filled — the signed version's rows, the ledger at the report date — are measured.

Figures, each beside a baseline measured in the same run:

1. Wall time of the workbook written in a process of its own (benchmarks.common.run_child),
   as the county's staff account. Target < 10 s. Baseline: plain openpyxl (write_only) of
   the same rows, one sheet per school, no layout, in a process of its own.
2. That process's peak resident memory (VmHWM). Target < 200 MB. Baseline: the openpyxl
   process's (which does not load Django). Printed beside: how much of our peak is above
   the process's once Django and the project's apps are loaded (about 150 MB of it).
"""

import datetime
import json
import os
import pickle
import sys
import tempfile
import time
from collections import Counter
from unittest import mock

from .common import progress, record, run_child

WALL_TARGET_S = 10
MEMORY_TARGET_MB = 200
COUNTY_NAME = "月报基准县"
STAFF = "bench_report_staff"
PERIOD = (2026, 11)
SEED_DAY = datetime.date(2026, 11, 3)


def _generate(schools: int, rows_per_school: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from accounts.choices import RegionLevel, Role, SchoolKind
    from accounts.models import Region, School, User
    from ledger.choices import Action, EntryKind, Reason, Source, State, Whereabouts
    from ledger.models import EntryEvent, LedgerEntry
    from reports.models import MonthlyReport, ReportRow, ReportVersion
    from reports.periods import period_for

    start = time.perf_counter()
    city = Region.objects.filter(level=RegionLevel.CITY).order_by("code").first()
    code = city.code[:4] + "99"
    with transaction.atomic():
        county = Region.objects.create(
            code=code, name=COUNTY_NAME, level=RegionLevel.COUNTY, parent=city
        )
        townships = Region.objects.bulk_create(
            Region(
                code=f"{code}{t:03d}",
                name=f"基准乡{t}",
                level=RegionLevel.TOWNSHIP,
                parent=county,
            )
            for t in range(1, 11)
        )
        made = School.objects.bulk_create(
            School(
                code=f"9{code[1:]}{s:03d}",
                name=f"{townships[s % 10].name}第{s + 1}小学",
                kind=SchoolKind.PRIMARY,
                township=townships[s % 10],
            )
            for s in range(schools)
        )
        staff = User.objects.create(
            username=STAFF, full_name="月报基准", role=Role.COUNTY_STAFF, region=county
        )
        found = SEED_DAY
        entries = LedgerEntry.objects.bulk_create(
            LedgerEntry(
                kind=EntryKind.DROPOUT,
                source=Source.SCHOOL_REPORT,
                state=State.CONFIRMED,
                name=f"学生{s}-{n}",
                gender="M" if n % 2 else "F",
                id_number=f"{code}2014{(n % 12) + 1:02d}15{s % 1000:03d}{n % 10}",
                school=school,
                grade=n % 6 + 1,
                township=school.township,
                reason=Reason.values[n % len(Reason.values)],
                whereabouts=Whereabouts.AT_HOME,
                key_groups=["poverty_registered"] if n % 3 == 0 else [],
                measures=f"{found:%-m月%-d日}班主任家访，监护人同意返校。" * 2,
                found_on=found,
                reviewed_on=found,
            )
            for s, school in enumerate(made)
            for n in range(rows_per_school)
        )
        # The timeline's lines dated the day the children were found (``at`` is set on
        # insert), so the ledger at the period's last day holds them.
        found_at = timezone.make_aware(datetime.datetime.combine(found, datetime.time(9)))
        with mock.patch("django.utils.timezone.now", return_value=found_at):
            EntryEvent.objects.bulk_create(
                (
                    EntryEvent(
                        entry=entry,
                        action=Action.CONFIRM,
                        state_after=State.CONFIRMED,
                        actor=staff,
                    )
                    for entry in entries
                ),
                batch_size=5000,
            )
        period = period_for(*PERIOD, bimonthly=False)
        signed_schools = made[: schools * 2 // 3]
        reports = MonthlyReport.objects.bulk_create(
            MonthlyReport(
                school=school,
                year=period.year,
                month=period.month,
                months=1,
                due_on=period.due_on,
            )
            for school in signed_schools
        )
        now = timezone.now()
        versions = ReportVersion.objects.bulk_create(
            ReportVersion(
                report=report,
                number=1,
                report_date=period.last_day,
                filled_by="王老师",
                phone="0872-1234567",
                created_by=staff,
                signed_by=staff,
                signed_at=now,
            )
            for report in reports
        )
        by_school = {version.report.school_id: version for version in versions}
        positions = Counter()

        def position(entry) -> int:
            positions[entry.school_id] += 1
            return positions[entry.school_id]

        ReportRow.objects.bulk_create(
            (
                ReportRow(
                    version=by_school[entry.school_id],
                    position=position(entry),
                    entry=entry,
                    school_name=entry.school.name,
                    name=entry.name,
                    gender="男" if entry.gender == "M" else "女",
                    grade=f"{entry.grade}年级",
                    class_name="1班",
                    id_number=entry.id_number,
                    reason=Reason(entry.reason).label,
                    poverty_registered=bool(entry.key_groups),
                    measures=entry.measures,
                )
                for entry in entries
                if entry.school_id in by_school
            ),
            batch_size=5000,
        )
    progress(
        f"report workbook data: {schools} schools, {len(entries):,} ledger entries, "
        f"{len(versions)} signed in {time.perf_counter() - start:.1f} s"
    )


def _dump_rows(path: str) -> int:
    """The rows the workbook holds, per school, pickled for the baseline."""
    from django.utils import timezone

    from accounts.models import School, User
    from reports import monthly
    from reports.monthly_xlsx import HEADINGS
    from reports.periods import period_for
    from reports.selectors import signed_versions

    user = User.objects.get(username=STAFF)
    period = period_for(*PERIOD, bimonthly=False)
    day = monthly.report_date(period, timezone.localdate())
    schools = list(School.objects.for_user(user).order_by("township__code", "code"))
    signed = {
        v.report.school_id: v
        for v in signed_versions(period).filter(report__school__in=schools).select_related("report")
    }
    count = 0
    with open(path, "wb") as out:
        pickle.dump(HEADINGS, out)
        for school in schools:
            if school.pk in signed:
                rows = list(
                    signed[school.pk].rows.order_by("position").values_list(*monthly.ROW_FIELDS)
                )
            else:
                rows = [
                    tuple(values[f] for f in monthly.ROW_FIELDS)
                    for values in monthly.ledger_rows([school.pk], day)
                ]
            count += len(rows)
            pickle.dump((school.name, rows), out)
    return count


def run() -> None:
    from accounts.models import Region

    schools = int(os.environ.get("BENCH_REPORT_SCHOOLS", "300"))
    rows = int(os.environ.get("BENCH_REPORT_ROWS", "20"))
    if not Region.objects.filter(name=COUNTY_NAME).exists():
        _generate(schools, rows)
    with tempfile.TemporaryDirectory() as folder:
        dump = os.path.join(folder, "rows.pickle")
        total = _dump_rows(dump)
        ours = run_child("benchmarks.report_workbook", "ours", os.path.join(folder, "ours.xlsx"))
        plain = run_child(
            "benchmarks.report_workbook", "baseline", dump, os.path.join(folder, "plain.xlsx")
        )
    progress(f"county workbook: {ours['schools']} schools, {total:,} rows")
    record(
        f"county 月报表 workbook, {ours['schools']} schools: wall",
        ours["seconds"],
        plain["seconds"],
        "s",
        target=f"< {WALL_TARGET_S} s",
        met=ours["seconds"] < WALL_TARGET_S,
    )
    record(
        "county 月报表 workbook: peak memory (child process)",
        ours["peak_mb"],
        plain["peak_mb"],
        "MB",
        target=f"< {MEMORY_TARGET_MB} MB",
        met=ours["peak_mb"] < MEMORY_TARGET_MB,
    )
    record(
        "county 月报表 workbook: memory above Django loaded",
        ours["peak_mb"] - ours["loaded_mb"],
        plain["peak_mb"],
        "MB",
    )


# -- the child processes ----------------------------------------------------------------------


def _ours(path: str) -> dict:
    import django

    django.setup()
    from django.utils import timezone

    from accounts.models import User
    from benchmarks.export_child import _peak_mb
    from reports.monthly_jobs import write_county_workbook
    from reports.periods import period_for

    user = User.objects.get(username=STAFF)
    loaded = _peak_mb()  # Django and the project's apps imported: most of the figure
    start = time.perf_counter()
    count = write_county_workbook(
        path, user, period_for(*PERIOD, bimonthly=False), today=timezone.localdate()
    )
    return {"schools": count, "seconds": time.perf_counter() - start, "loaded_mb": loaded}


def _baseline(dump: str, path: str) -> dict:
    import openpyxl

    start = time.perf_counter()
    book = openpyxl.Workbook(write_only=True)
    count = 0
    with open(dump, "rb") as handle:
        headings = pickle.load(handle)  # noqa: S301 — our own file, just written
        while True:
            try:
                name, rows = pickle.load(handle)  # noqa: S301 — our own file, just written
            except EOFError:
                break
            count += 1
            sheet = book.create_sheet(f"{count}")
            sheet.append(headings)
            for position, row in enumerate(rows, start=1):
                sheet.append((position, *row))
    book.save(path)
    return {"schools": count, "seconds": time.perf_counter() - start}


def main() -> None:
    from benchmarks.export_child import _peak_mb

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kongchuo.settings.test")
    mode, *args = sys.argv[1:]
    result = {"ours": _ours, "baseline": _baseline}[mode](*args)
    print(json.dumps({**result, "peak_mb": _peak_mb()}))


if __name__ == "__main__":
    main()
