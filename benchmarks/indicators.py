"""The dashboards' indicators at province and county scale (issue 14): every figure of the
dashboard (``reports.indicators.indicators``: 辍学率 with its counts by month, reason, key
group, grade and area, the rankings and the area's own rank, 九年义务教育巩固率, 小学净入学率)
for the province (as ``sheng_dudao``, target < 2 s) and for one county (as ``xian_staff``,
target < 200 ms), each beside one hand-written SQL query for the same figures. Two figures
each, as for the home page: counted afresh (the cache emptied before each view) and with the
start-of-year counts kept (``reports.indicators.KEPT_SECONDS``, what every view but the first
in five minutes sees).

Data: the runner's province and students (each with an 入学注册 event at its entry date, so
the 学籍 history reaches back nine years and the 巩固率 is computed, not refused), plus what
this module adds once (kept with BENCH_REUSE=1): a year of ledger history — 1.5 % of the
students confirmed as dropouts across the twelve months of the current school year, a third
of them 疑似辍学 confirmed later, with reasons and key groups — and a 户籍 list per county
holding the county's students with an ID number.
"""

import datetime
import random
import time
from itertools import cycle
from unittest import mock

from .common import p50, p95, progress, record, timed

PROVINCE_TARGET_MS = 2000
COUNTY_TARGET_MS = 200
DROPOUT_SHARE = 0.015
MARK = "benchmark ledger history"

# The same figures in one statement: start-of-year enrolment by school (the last 学籍异动 on
# or before 1 September), the year's first confirmations (each child once) by school and by
# month, reason and grade, the cohort's 巩固率 parts and the 户籍 list's school-age children.
BASELINE_SQL = """
WITH schools AS (
    SELECT s.id, t.code AS township FROM accounts_school s
    JOIN accounts_region t ON t.id = s.township_id WHERE t.code LIKE %(prefix)s
), last_event AS (
    SELECT DISTINCT ON (e.student_id) e.school_id, e.status_after FROM students_enrollmentevent e
    WHERE e.school_id IN (SELECT id FROM schools) AND e.date <= %(start)s
    ORDER BY e.student_id, e.date DESC, e.id DESC
), enrolled AS (
    SELECT school_id, count(*) AS n FROM last_event
    WHERE status_after IN ('enrolled', 'home_taught') GROUP BY school_id
), confirmed AS (
    SELECT COALESCE(l.student_id, -l.id) AS child, l.school_id, l.reason, l.grade, ev.at
    FROM ledger_entryevent ev JOIN ledger_ledgerentry l ON l.id = ev.entry_id
    JOIN accounts_region rt ON rt.id = l.township_id
    WHERE ev.action IN ('create', 'confirm') AND ev.state_after = 'confirmed'
      AND l.kind IN ('dropout', 'suspected') AND ev.at >= %(from)s AND ev.at < %(to)s
      AND (l.school_id IN (SELECT id FROM schools)
           OR (l.school_id IS NULL AND rt.code LIKE %(prefix)s))
), intake AS (
    SELECT DISTINCT student_id FROM students_enrollmentevent
    WHERE school_id IN (SELECT id FROM schools) AND kind = 'enrol'
      AND date BETWEEN %(intake_from)s AND %(intake_to)s
), completers AS (
    SELECT id FROM students_student WHERE school_id IN (SELECT id FROM schools)
      AND grade = 9 AND status IN ('enrolled', 'home_taught')
), household AS (
    SELECT DISTINCT ON (county_id) id FROM comparisons_source
    WHERE kind = 'household' AND county_id IN (
        SELECT id FROM accounts_region WHERE level = 3 AND code LIKE %(prefix)s)
    ORDER BY county_id, uploaded_at DESC, id DESC
), school_age AS (
    SELECT r.id_hash FROM comparisons_sourcerow r
    WHERE r.source_id IN (SELECT id FROM household)
      AND r.birth_date BETWEEN %(born_from)s AND %(born_to)s
)
SELECT
    (SELECT json_agg(json_build_array(school_id, n)) FROM enrolled),
    (SELECT json_agg(json_build_array(school_id, n)) FROM (
        SELECT school_id, count(DISTINCT child) AS n FROM confirmed GROUP BY 1) x),
    (SELECT json_agg(json_build_array(m, n)) FROM (
        SELECT date_trunc('month', at AT TIME ZONE %(tz)s) AS m, count(DISTINCT child) AS n
        FROM confirmed GROUP BY 1) x),
    (SELECT json_agg(json_build_array(reason, n)) FROM (
        SELECT reason, count(DISTINCT child) AS n FROM confirmed GROUP BY 1) x),
    (SELECT json_agg(json_build_array(grade, n)) FROM (
        SELECT grade, count(DISTINCT child) AS n FROM confirmed GROUP BY 1) x),
    (SELECT count(DISTINCT child) FROM confirmed),
    (SELECT count(*) FROM intake),
    (SELECT count(*) FROM completers),
    (SELECT count(*) FROM school_age),
    (SELECT count(*) FROM school_age a WHERE EXISTS (
        SELECT 1 FROM students_student s WHERE s.id_hash = a.id_hash
          AND s.status IN ('enrolled', 'home_taught') AND s.grade <= 6))
"""


def _ledger_history(year: int) -> None:
    """1.5 % of the students as the year's confirmed dropouts, once (BENCH_REUSE keeps it)."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from ledger.choices import Action, EntryKind, Reason, State, Whereabouts
    from ledger.choices import Source as EntrySource
    from ledger.models import EntryEvent, LedgerEntry
    from students.choices import KeyGroup, Status
    from students.models import Student

    if EntryEvent.objects.filter(note=MARK).exists():
        return
    started = time.perf_counter()
    rng = random.Random(14)  # noqa: S311 — deterministic benchmark data
    total = Student.objects.filter(status=Status.ENROLLED).count()
    step = max(1, round(1 / DROPOUT_SHARE))
    chosen = (
        Student.objects.filter(status=Status.ENROLLED)
        # Not the children the attendance and 劝返 data put in the ledger: one open entry each.
        .exclude(pk__in=LedgerEntry.objects.values("student_id"))
        .order_by("id")
        .values_list("id", "name", "gender", "school_id", "school__township_id", "grade")
    )
    actor = User.objects.filter(role="county_admin").order_by("id").first()
    reasons = [reason.value for reason in Reason]
    groups = [group.value for group in KeyGroup]
    made = 0
    batch: list[tuple] = []

    def flush():
        nonlocal made
        if not batch:
            return
        entries = LedgerEntry.objects.bulk_create(
            LedgerEntry(
                student_id=sid, kind=kind, source=EntrySource.SCHOOL_REPORT,
                state=State.CONFIRMED, name=name, gender=gender, school_id=school,
                township_id=township, grade=grade, reason=reason, key_groups=keys,
                whereabouts=Whereabouts.AT_HOME, found_on=day, reviewed_on=day,
            )
            for sid, name, gender, school, township, grade, kind, reason, keys, day in batch
        )  # fmt: skip
        events, moments = [], []
        for entry, row in zip(entries, batch, strict=True):
            moment = timezone.make_aware(datetime.datetime.combine(row[-1], datetime.time(10)))
            if entry.kind == EntryKind.SUSPECTED:
                events.append(
                    EntryEvent(
                        entry=entry,
                        action=Action.CREATE,
                        state_after=State.PENDING,
                        note=MARK,
                        actor=actor,
                    )
                )
                events.append(EntryEvent(entry=entry, action=Action.CONFIRM,
                                         state_before=State.PENDING, state_after=State.CONFIRMED,
                                         note=MARK, actor=actor))  # fmt: skip
                moments += [moment - datetime.timedelta(days=3), moment]
            else:
                events.append(
                    EntryEvent(
                        entry=entry,
                        action=Action.CREATE,
                        state_after=State.CONFIRMED,
                        note=MARK,
                        actor=actor,
                    )
                )
                moments.append(moment)  # fmt: skip
        with mock.patch("django.utils.timezone.now", side_effect=cycle(moments).__next__):
            EntryEvent.objects.bulk_create(events, batch_size=5000)
        made += len(batch)
        batch.clear()

    first = datetime.date(year, 9, 1)
    today = timezone.localdate()
    span = max(1, min((today - first).days, 364))
    for index, row in enumerate(chosen.iterator(chunk_size=20000)):
        if index % step:
            continue
        day = first + datetime.timedelta(days=rng.randrange(span))
        kind = EntryKind.SUSPECTED if rng.random() < 1 / 3 else EntryKind.DROPOUT
        keys = rng.sample(groups, rng.choice((0, 0, 1, 2)))
        batch.append((*row, kind, rng.choice(reasons), keys, day))
        if len(batch) == 5000:
            flush()
    flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ledger_ledgerentry; ANALYZE ledger_entryevent")
    print(
        f"ledger history: {made:,} dropouts of {total:,} students "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def _household_lists() -> None:
    """A 户籍 list per county holding its students with an ID number, once."""
    from django.db import connection

    from accounts.choices import RegionLevel
    from accounts.models import Region, User
    from comparisons.choices import SourceKind
    from comparisons.models import Source

    if Source.objects.filter(kind=SourceKind.HOUSEHOLD, name=MARK).exists():
        return
    started = time.perf_counter()
    admin = User.objects.filter(role="county_admin").order_by("id").first()
    counties = Region.objects.filter(level=RegionLevel.COUNTY)
    Source.objects.bulk_create(
        Source(county=county, kind=SourceKind.HOUSEHOLD, name=MARK, sha256=county.code.ljust(64,
               "0"), size=0, uploaded_by=admin)
        for county in counties
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO comparisons_sourcerow (source_id, "row", id_number, id_hash, id_valid,
                name, name_key, birth_date, gender, region_id, guardian, school_name, extra)
            SELECT src.id, row_number() OVER (PARTITION BY src.id ORDER BY s.id), s.id_number,
                   s.id_hash, true, s.name, s.name, s.birth_date, s.gender, s.hukou_region_id, '', '', '{}'
            FROM students_student s
            JOIN accounts_school sc ON sc.id = s.school_id
            JOIN accounts_region t ON t.id = sc.township_id
            JOIN comparisons_source src ON src.county_id = t.parent_id
                 AND src.kind = 'household' AND src.name = %s
            WHERE s.id_number IS NOT NULL
            """,
            [MARK],
        )
        cursor.execute("ANALYZE comparisons_sourcerow")
    print(f"household lists in {time.perf_counter() - started:.1f} s", flush=True)


def _baseline(prefix: str, year: int):
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from reports.indicators import Period, primary_births

    first, last = Period(year).span
    born_from, born_to = primary_births(year)
    params = {
        "prefix": prefix + "%",
        "start": datetime.date(year, 9, 1),
        "from": timezone.make_aware(datetime.datetime.combine(first, datetime.time.min)),
        "to": timezone.make_aware(
            datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min)
        ),
        "intake_from": datetime.date(year - 8, 9, 1),
        "intake_to": datetime.date(year - 7, 8, 31),
        "born_from": born_from,
        "born_to": born_to,
        "tz": settings.TIME_ZONE,
    }

    def run():
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, params)
            return cursor.fetchone()

    return run


def _measure(name: str, username: str, repeat: int, target_ms: float) -> None:
    from django.core.cache import cache

    from accounts.models import User, current_school_year
    from reports import indicators

    year = current_school_year()

    def ours():
        # A fresh user object each time: nothing of the area is kept between views.
        user = User.objects.select_related("region", "school").get(username=username)
        place = indicators.resolve_place(user)
        return indicators.indicators(user, place, indicators.period_of(year))

    result = ours()
    user = User.objects.select_related("region").get(username=username)
    row = _baseline(user.region.prefix, year)()
    assert result.dropout_rate.numerator == row[5], (result.dropout_rate.numerator, row[5])
    assert result.dropout_rate.denominator == sum(n for _, n in row[0] or []), "enrolled"
    print(
        f"  {name}: 辍学率 {result.dropout_rate.percent}% "
        f"({result.dropout_rate.numerator:,} ÷ {result.dropout_rate.denominator:,}), "
        f"巩固率 {result.consolidation_rate.percent or result.consolidation_rate.missing}, "
        f"入学率 {result.enrolment_rate.percent or result.enrolment_rate.missing}",
        flush=True,
    )

    def afresh():
        cache.clear()  # the start-of-year counts kept for KEPT_SECONDS, gone
        return ours()

    baseline = timed(_baseline(user.region.prefix, year), repeat)
    fresh = timed(afresh, max(3, repeat // 2))
    ours()  # the next views find the start-of-year counts kept
    kept = timed(ours, repeat)
    for label, mine in (("counted afresh", fresh), ("counts kept", kept)):
        record(f"indicators {name}, {label} p50", p50(mine), p50(baseline), "ms")
        worst = p95(mine)
        record(
            f"indicators {name}, {label} p95",
            worst,
            p95(baseline),
            "ms",
            target=f"p95 < {target_ms:.0f} ms",
            met=worst < target_ms,
        )


def run(requests: int) -> None:
    from accounts.models import current_school_year

    year = current_school_year()
    progress("indicators: ledger history and household lists")
    _ledger_history(year)
    _household_lists()
    _measure("province (sheng_dudao)", "sheng_dudao", max(3, min(requests // 20, 10)),
             PROVINCE_TARGET_MS)  # fmt: skip
    _measure("county (xian_staff)", "xian_staff", max(5, min(requests, 50)), COUNTY_TARGET_MS)
