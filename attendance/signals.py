"""The watch list's signals (重点监测, DOMAIN.md §4b): one function per reason a child is
watched, each a SQL query over whole counties at once — never a loop over children.

Every signal reads the enrolled students of the schools in the computation's window table
(``WINDOW``, filled by ``attendance.watch.compute``: per school, the first school day of each
window by the school's own calendar, and its county's settings) and answers the ids of the
students for whom the reason holds on the span's day (``Span.as_of``). School days come
from the school calendar; a school day without a roll call is *unknown*, never "present":
the attendance rate counts only the days that were recorded.

``key_groups_sql`` and ``returned_sql`` are shared with the 疑似辍学 rule's per-group
thresholds (``attendance.rule``), so that "a key-group child" and "a returned child" mean
the same thing on the watch list and in the rule.
"""

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ledger.choices import ClosureReason, EntryKind, State
from ledger.models import LedgerEntry
from students.choices import ENROLLED_STATUSES, KeyGroup
from students.models import Student

from .choices import ABSENT, Mark, WatchReason
from .models import AttendanceMark, RollCall

WINDOW = "watch_window"
# The window table's columns, in order (attendance.watch fills it).
WINDOW_COLUMNS = (
    ("school_id", "bigint PRIMARY KEY"),
    ("unexcused_since", "date"),
    ("unexcused_days", "integer"),
    ("rate_since", "date"),
    ("rate", "integer"),
    ("rate_min", "integer"),
    ("late_since", "date"),
    ("late_days", "integer"),
    ("returned_since", "timestamp"),
)
STUDENTS, MARKS, ROLLS, ENTRIES = (
    model._meta.db_table for model in (Student, AttendanceMark, RollCall, LedgerEntry)
)


@dataclass(frozen=True)
class Span:
    """What the signals are computed for: the day, and each window column's least and
    greatest value over all the schools (none when there are no schools). These are
    constant bounds: a signal first finds, from the marks alone, the children whom some
    school's window could count, and joins only those to their schools, whose own windows
    then decide."""

    as_of: datetime.date
    bounds: Mapping[str, tuple]

    def least(self, column: str):
        return self.bounds[column][0] if column in self.bounds else None

    def greatest(self, column: str):
        return self.bounds[column][1] if column in self.bounds else None


@dataclass(frozen=True)
class Query:
    sql: str
    params: list


def _in(values: Iterable) -> tuple[str, list]:
    values = sorted(values)
    return ", ".join(["%s"] * len(values)), values


def _enrolled(alias: str = "s") -> tuple[str, list]:
    marks, values = _in(ENROLLED_STATUSES)
    return f"{alias}.status IN ({marks})", values


def key_groups_sql(alias: str, groups: Iterable[KeyGroup] = tuple(KeyGroup)) -> str:
    """True for a student (table alias ``alias``) in any of ``groups`` (DOMAIN.md §3)."""
    return "(" + " OR ".join(f"{alias}.{group.value}" for group in groups) + ")"


def returned_sql(entry: str, since: str) -> tuple[str, list]:
    """True for a ledger entry (alias ``entry``) of a returned child: back in class and
    followed up (已复学（跟踪）, also while a closure is proposed from it), or closed as 已复学
    at or after ``since`` (an SQL expression of a time)."""
    sql = (
        f"({entry}.state = %s OR ({entry}.state = %s AND {entry}.proposed_from = %s)"
        f" OR ({entry}.state = %s AND {entry}.closure_reason = %s AND {entry}.closed_at >= {since}))"
    )
    params = [State.RETURNED, State.PROPOSED, State.RETURNED, State.CLOSED, ClosureReason.RETURNED]
    return sql, [str(value) for value in params]


def _students(condition: str, params: list) -> Query:
    enrolled, statuses = _enrolled()
    sql = (
        f"SELECT s.id AS student_id FROM {STUDENTS} s JOIN {WINDOW} w ON w.school_id = s.school_id"  # noqa: S608 - the models' own table names
        f" WHERE {enrolled} AND {condition}"
    )
    return Query(sql, [*statuses, *params])


def key_group(span: Span) -> Query:
    """重点群体: the child belongs to a key group of §3 (学习困难 is a reason of its own)."""
    groups = [group for group in KeyGroup if group != KeyGroup.LEARNING_DIFFICULTY]
    return _students(key_groups_sql("s", groups), [])


def learning_difficulty(span: Span) -> Query:
    """学习困难: the child's record says so."""
    return _students(f"s.{KeyGroup.LEARNING_DIFFICULTY.value}", [])


def _at_least(span: Span, since: str, condition: str, params: list, least) -> tuple[str, list]:
    """The students with at least ``least`` marks matching ``condition`` (alias ``m``)
    from the earliest ``since`` (a window column) of any school to ``span.as_of``: read
    from the marks alone, a superset of those whom their own school's window counts."""
    sql = (
        f"SELECT m.student_id FROM {MARKS} m WHERE {condition} AND m.date >= %s AND m.date <= %s"  # noqa: S608 - our own SQL
        " GROUP BY m.student_id HAVING count(*) >= %s"
    )
    return sql, [*params, span.least(since), span.as_of, least]


def _counted_marks(span: Span, *, status: str, since: str, days: str, extra: str = ""):
    """Students with at least ``days`` (a column of the window table) marks of ``status``
    from ``since`` (another) to ``span.as_of``."""
    enrolled, statuses = _enrolled()
    often, often_params = _at_least(
        span, since, f"m.status = %s {extra}", [status], span.least(days)
    )
    sql = f"""
        SELECT m.student_id FROM ({often}) o
        JOIN {MARKS} m ON m.student_id = o.student_id
        JOIN {STUDENTS} s ON s.id = m.student_id
        JOIN {WINDOW} w ON w.school_id = s.school_id
        WHERE m.status = %s AND m.date >= %s AND m.date >= w.{since} AND m.date <= %s
          AND {enrolled} {extra}
        GROUP BY m.student_id, w.{days}
        HAVING count(*) >= w.{days}
    """  # noqa: S608 - table and column names are our own
    params = [*often_params, status, span.least(since), span.as_of, *statuses]
    return Query(sql, params)


def rising_unexcused(span: Span) -> Query:
    """旷课增多: at least ``watch_unexcused_days`` unexcused days (not necessarily in a row)
    in the last ``watch_unexcused_window`` school days."""
    return _counted_marks(
        span, status=Mark.UNEXCUSED.value, since="unexcused_since", days="unexcused_days"
    )


def unexplained_lateness(span: Span) -> Query:
    """经常迟到未说明原因: at least ``watch_late_days`` days late with no note in the last
    ``watch_late_window`` school days."""
    return _counted_marks(
        span, status=Mark.LATE.value, since="late_since", days="late_days", extra="AND m.note = ''"
    )


def falling_rate(span: Span) -> Query:
    """出勤率下降: over the last ``watch_rate_window`` school days, the share of *recorded*
    days the child was in school (present or late) is below ``watch_rate`` percent. A
    recorded day is a roll call of the child's class, or a mark of the child on another
    class's roll (a mark follows the child); at least ``rate_min`` (half the window) must be
    recorded.

    Below the rate with at least ``rate_min`` recorded days means more than
    ``(100 - rate) * rate_min / 100`` days away, so the scan starts from the children away
    that often (``away``; first from the marks alone, with the bounds of every school's
    settings), beside their class's roll calls in their school's window (``own``, read from
    the index of roll calls by class and day). Marks on other classes' rolls only add
    recorded days, which lifts the rate, so only the children already below it on their
    own class's roll calls (``below``) need their marks' roll calls looked up
    (``elsewhere``)."""
    enrolled, statuses = _enrolled()
    away, away_values = _in(ABSENT)
    first, last = span.least("rate_since"), span.as_of
    # The fewest days away that can be below the rate in any school:
    rate, rate_min = span.greatest("rate"), span.least("rate_min")
    floor = None if rate is None else (100 - rate) * rate_min // 100 + 1
    often, often_params = _at_least(span, "rate_since", f"m.status IN ({away})", away_values, floor)
    sql = f"""
        WITH away AS MATERIALIZED (
            SELECT m.student_id, s.klass_id, w.rate_since, w.rate, w.rate_min,
                   count(*) AS away
            FROM ({often}) o
            JOIN {MARKS} m ON m.student_id = o.student_id
            JOIN {STUDENTS} s ON s.id = m.student_id
            JOIN {WINDOW} w ON w.school_id = s.school_id
            WHERE m.status IN ({away}) AND m.date >= %s AND m.date >= w.rate_since
              AND m.date <= %s AND {enrolled}
            GROUP BY m.student_id, s.klass_id, w.rate_since, w.rate, w.rate_min
            HAVING count(*) * 100 > (100 - w.rate) * w.rate_min
        ), own AS MATERIALIZED (
            SELECT c.klass_id, c.rate_since,
                   (SELECT count(*) FROM {ROLLS} r
                    WHERE r.klass_id = c.klass_id AND r.date >= c.rate_since AND r.date <= %s
                   ) AS n
            FROM (SELECT DISTINCT klass_id, rate_since FROM away) c
        ), below AS MATERIALIZED (
            SELECT a.student_id, a.klass_id, a.rate_since, a.rate, a.rate_min, a.away,
                   COALESCE(own.n, 0) AS n
            FROM away a
            LEFT JOIN own ON own.klass_id = a.klass_id AND own.rate_since = a.rate_since
            WHERE a.away * 100 > (100 - a.rate) * COALESCE(own.n, 0)
        ), elsewhere AS (
            SELECT b.student_id, SUM(CASE WHEN r.klass_id = b.klass_id THEN 0 ELSE 1 END) AS n
            FROM below b
            JOIN {MARKS} m ON m.student_id = b.student_id
            JOIN {ROLLS} r ON r.id = m.roll_id
            WHERE m.date >= %s AND m.date >= b.rate_since AND m.date <= %s
            GROUP BY b.student_id
        )
        SELECT b.student_id FROM below b JOIN elsewhere e ON e.student_id = b.student_id
        WHERE b.n + e.n >= b.rate_min AND (b.n + e.n - b.away) * 100 < b.rate * (b.n + e.n)
    """  # noqa: S608 - table names from the models' own metadata
    params = [*often_params, *away_values, first, last, *statuses, last, first, last]
    return Query(sql, params)


def _with_entry(condition: str, params: list) -> Query:
    enrolled, statuses = _enrolled()
    sql = f"""
        SELECT DISTINCT e.student_id FROM {ENTRIES} e
        JOIN {STUDENTS} s ON s.id = e.student_id
        JOIN {WINDOW} w ON w.school_id = s.school_id
        WHERE {enrolled} AND {condition}
    """  # noqa: S608 - table names from the models' own metadata
    return Query(sql, [*statuses, *params])


def recent_return(span: Span) -> Query:
    """劝返复学跟踪: the ledger says the child came back (已复学（跟踪）), or closed their entry
    as 已复学 within ``watch_return_days`` days (the 劝返 follow-up, DOMAIN.md §7)."""
    return _with_entry(*returned_sql("e", "w.returned_since"))


def earlier_episode(span: Span) -> Query:
    """曾辍学: the child, enrolled now, has a closed ledger entry of a confirmed dropout (not
    one closed as an error or a duplicate) — an earlier episode (反弹 risk, DOMAIN.md §5)."""
    return _with_entry(
        "e.kind = %s AND e.state = %s AND e.closure_reason <> %s",
        [EntryKind.DROPOUT.value, State.CLOSED.value, ClosureReason.ERROR.value],
    )


# Every reason and its signal: the computation runs them all.
SIGNALS: dict[WatchReason, Callable[[Span], Query]] = {
    WatchReason.KEY_GROUP: key_group,
    WatchReason.UNEXCUSED: rising_unexcused,
    WatchReason.RATE: falling_rate,
    WatchReason.LEARNING: learning_difficulty,
    WatchReason.RETURNED: recent_return,
    WatchReason.EPISODE: earlier_episode,
    WatchReason.LATENESS: unexplained_lateness,
}
