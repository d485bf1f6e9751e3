"""The watch list (重点监测名单, DOMAIN.md §4b): its computation and the principal's weekly
digest.

``compute`` runs every signal of ``attendance.signals`` for whole counties at once in the
database (nightly for every county, on demand for one) and keeps the list as periods: a
period opens the day a reason is first found for a child and ends the first day it no longer
holds; nothing is deleted. Per school it first works out, from the school's own calendar,
where each window of school days begins, and puts that beside its county's settings in a
temporary table that every signal joins.
"""

import datetime
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from accounts.choices import NotificationKind, RegionLevel
from accounts.models import Region, School
from accounts.notifications import notify, subject
from accounts.selectors import recipients_for_school
from students import calendar

from . import selectors, signals
from .models import AttendanceRules, WatchPeriod, WatchRun

logger = logging.getLogger(__name__)

_PERIODS = WatchPeriod._meta.db_table
_NOW = "watch_now"
# Serialises computations (the nightly run and a county's 立即更新) on PostgreSQL.
_LOCK = 46_016
_CHUNK = 1000


@dataclass(frozen=True)
class Outcome:
    started: int  # periods opened
    ended: int  # periods ended
    counties: int


def _windows(county_ids: list[int], as_of: datetime.date) -> list[tuple]:
    """One row of ``signals.WINDOW`` per school of the counties: the first school day of
    each window by the school's calendar, and the county's settings. A calendar with fewer
    school days than a window starts it at its first; one with none leaves it empty."""
    settings = {pk: AttendanceRules(county_id=pk) for pk in county_ids}
    settings.update(
        {
            rules.county_id: rules
            for rules in AttendanceRules.objects.filter(county_id__in=county_ids)
        }
    )
    schools = dict(
        School.objects.filter(township__parent_id__in=county_ids).values_list(
            "pk", "township__parent_id"
        )
    )
    calendars = calendar.calendars_for(list(schools))
    days_of: dict[tuple[int, int], list[datetime.date]] = {}
    empty = as_of + datetime.timedelta(days=1)
    rows = []
    for school_id, county_id in schools.items():
        rules = settings[county_id]
        cal = calendars[school_id]
        widest = max(rules.watch_unexcused_window, rules.watch_rate_window, rules.watch_late_window)
        # Schools without calendar rows of their own share their county's Calendar object.
        key = (id(cal), widest)
        if key not in days_of:
            days_of[key] = cal.previous_school_days(as_of, widest, including=True)
        days = days_of[key]

        def since(n: int, days=days) -> datetime.date:
            return days[-min(n, len(days))] if days else empty

        rows.append(
            (
                school_id,
                since(rules.watch_unexcused_window),
                rules.watch_unexcused_days,
                since(rules.watch_rate_window),
                rules.watch_rate,
                math.ceil(rules.watch_rate_window / 2),
                since(rules.watch_late_window),
                rules.watch_late_days,
                connection.ops.adapt_datetimefield_value(
                    selectors.returned_since(as_of, rules.watch_return_days)
                ),
            )
        )
    return rows


def _span(rows: list[tuple], as_of: datetime.date) -> signals.Span:
    """The signals' span: ``as_of`` and each window column's bounds over ``rows``."""
    columns = [column for column, _ in signals.WINDOW_COLUMNS]
    if not rows:
        return signals.Span(as_of, {})
    values = zip(*rows, strict=True)
    return signals.Span(
        as_of, {column: (min(v), max(v)) for column, v in zip(columns, values, strict=True)}
    )


def _temporary(cursor, name: str, columns: Iterable[tuple[str, str]]) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    definition = ", ".join(f"{column} {kind}" for column, kind in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE {name} ({definition})")


def _fill_window(cursor, rows: list[tuple]) -> None:
    _temporary(cursor, signals.WINDOW, signals.WINDOW_COLUMNS)
    width = len(signals.WINDOW_COLUMNS)
    row = "(" + ", ".join(["%s"] * width) + ")"
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        cursor.execute(
            f"INSERT INTO {signals.WINDOW} VALUES {', '.join([row] * len(chunk))}",  # noqa: S608 - placeholders only
            [value for values in chunk for value in values],
        )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {signals.WINDOW}")


@transaction.atomic
def compute(counties: Iterable[Region] | None = None, *, as_of: datetime.date | None = None):
    """Bring the watch list of ``counties`` (every county) up to ``as_of`` (today): open a
    period for each reason that holds and has none, end the open periods whose reason no
    longer holds. The signals run in the database, one query each for all the counties."""
    as_of = as_of or timezone.localdate()
    chosen = Region.objects.filter(level=RegionLevel.COUNTY)
    if counties is not None:
        chosen = chosen.filter(pk__in=[getattr(county, "pk", county) for county in counties])
    county_ids = list(chosen.values_list("pk", flat=True))
    rows = _windows(county_ids, as_of)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        _fill_window(cursor, rows)
        _temporary(cursor, _NOW, (("student_id", "bigint"), ("reason", "varchar(20)")))
        span = _span(rows, as_of)
        for reason, signal in signals.SIGNALS.items():
            query = signal(span)
            cursor.execute(
                f"INSERT INTO {_NOW} (student_id, reason) SELECT x.student_id, %s FROM ({query.sql}) x",  # noqa: S608 - our own SQL
                [reason.value, *query.params],
            )
        cursor.execute(f"CREATE INDEX {_NOW}_key ON {_NOW} (student_id, reason)")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {_NOW}")
        cursor.execute(
            f"""
            UPDATE {_PERIODS} SET ended_on = %s
            WHERE ended_on IS NULL
              AND student_id IN (
                  SELECT s.id FROM {signals.STUDENTS} s
                  JOIN {signals.WINDOW} w ON w.school_id = s.school_id
              )
              AND NOT EXISTS (
                  SELECT 1 FROM {_NOW} n
                  WHERE n.student_id = {_PERIODS}.student_id AND n.reason = {_PERIODS}.reason
              )
            """,  # noqa: S608 - table names from the models' own metadata
            [as_of],
        )
        ended = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {_PERIODS} (student_id, reason, started_on)
            SELECT n.student_id, n.reason, %s FROM {_NOW} n
            WHERE NOT EXISTS (
                SELECT 1 FROM {_PERIODS} p
                WHERE p.student_id = n.student_id AND p.reason = n.reason AND p.ended_on IS NULL
            )
            """,  # noqa: S608 - table names from the models' own metadata
            [as_of],
        )
        started = cursor.rowcount
        cursor.execute(f"DROP TABLE {_NOW}")
        cursor.execute(f"DROP TABLE {signals.WINDOW}")
    WatchRun.objects.bulk_create(WatchRun(county_id=pk, as_of=as_of) for pk in county_ids)
    return Outcome(started=started, ended=ended, counties=len(county_ids))


def compute_all(as_of: datetime.date | None = None) -> Outcome:
    """Every county at once (the benchmarks' province)."""
    outcome = compute(as_of=as_of)
    logger.info("重点监测：新列入%d项，移出%d项", outcome.started, outcome.ended)
    return outcome


def compute_county(county: Region, as_of: datetime.date | None = None) -> Outcome:
    """The nightly run of one county (a task each)."""
    outcome = compute([county], as_of=as_of)
    logger.info("重点监测：%s新列入%d项，移出%d项", county.name, outcome.started, outcome.ended)
    return outcome


# -- the weekly digest ----------------------------------------------------------------------


def digest_key(school_id: int, day: datetime.date) -> str:
    """Once per school and ISO week: the digest's dedupe key."""
    year, week, _ = day.isocalendar()
    return f"watch-digest:{school_id}:{year}-W{week:02d}"


def send_digests(day: datetime.date | None = None) -> int:
    """Weekly: tell each principal of a school with a watch list the children put on it
    this week and those with no measure recorded for ``selectors.MEASURE_DUE_DAYS`` days.
    Once per principal and week, however often it runs. Returns the schools written to."""
    day = day or timezone.localdate()
    week_start = day - datetime.timedelta(days=day.weekday())
    new = selectors.watch_new_by_school(week_start)
    idle = selectors.watch_idle_by_school(day)
    schools = School.objects.in_bulk(list(new.keys() | idle.keys()))
    sent = 0
    for school_id, school in schools.items():
        fresh, waiting = new.get(school_id, []), idle.get(school_id, [])
        lines = []
        if fresh:
            lines.append("本周新列入：" + "、".join(_names(fresh)) + "。")
        if waiting:
            lines.append(
                f"{selectors.MEASURE_DUE_DAYS}天内没有登记帮扶措施："
                + "、".join(_names(waiting))
                + "。"
            )
        created = notify(
            recipients_for_school(school),
            kind=NotificationKind.GENERAL,
            title=f"{subject(school=school)}：重点监测周报（新列入{len(fresh)}人，"
            f"待登记措施{len(waiting)}人）",
            body="".join(lines) + "请在重点监测名单中逐一跟进并登记措施。",
            link="/attendance/watch/",
            dedupe_key=digest_key(school_id, day),
        )
        sent += bool(created)
    return sent


def _names(students) -> list[str]:
    return [subject(student.name, klass=student.klass) for student in students]
