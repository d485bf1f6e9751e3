"""The watch list's signals (重点监测, DOMAIN.md §4b): one function per reason a child is
watched, each a SQL query over whole counties at once — never a loop over children.

Every signal reads the enrolled students of the schools in the computation's window table
(``WINDOW``, filled by ``attendance.watch.compute``: per school, the first school day of each
window by the school's own calendar, and its county's settings) and answers the ids of the
students for whom the reason holds on ``as_of``. School days come from the school calendar;
a school day without a roll call is *unknown*, never "present": the attendance rate counts
only the days that were recorded.

``key_groups_sql`` and ``returned_sql`` are shared with the 疑似辍学 rule's per-group
thresholds (``attendance.rule``), so that "a key-group child" and "a returned child" mean
the same thing on the watch list and in the rule.
"""

import datetime
from collections.abc import Callable, Iterable
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


def key_group(as_of: datetime.date) -> Query:
    """重点群体: the child belongs to a key group of §3 (学习困难 is a reason of its own)."""
    groups = [group for group in KeyGroup if group != KeyGroup.LEARNING_DIFFICULTY]
    return _students(key_groups_sql("s", groups), [])


def learning_difficulty(as_of: datetime.date) -> Query:
    """学习困难: the child's record says so."""
    return _students(f"s.{KeyGroup.LEARNING_DIFFICULTY.value}", [])


def _counted_marks(as_of: datetime.date, *, status: str, since: str, days: str, extra: str = ""):
    """Students with at least ``days`` marks of ``status`` from ``since`` to ``as_of`` (both
    columns of the window table)."""
    enrolled, statuses = _enrolled()
    sql = f"""
        SELECT m.student_id FROM {MARKS} m
        JOIN {STUDENTS} s ON s.id = m.student_id
        JOIN {WINDOW} w ON w.school_id = s.school_id
        WHERE m.status = %s AND m.date >= w.{since} AND m.date <= %s AND {enrolled} {extra}
        GROUP BY m.student_id, w.{days}
        HAVING count(*) >= w.{days}
    """  # noqa: S608 - table and column names are our own
    return Query(sql, [status, as_of, *statuses])


def rising_unexcused(as_of: datetime.date) -> Query:
    """旷课增多: at least ``watch_unexcused_days`` unexcused days (not necessarily in a row)
    in the last ``watch_unexcused_window`` school days."""
    return _counted_marks(
        as_of, status=Mark.UNEXCUSED.value, since="unexcused_since", days="unexcused_days"
    )


def unexplained_lateness(as_of: datetime.date) -> Query:
    """经常迟到未说明原因: at least ``watch_late_days`` days late with no note in the last
    ``watch_late_window`` school days."""
    return _counted_marks(
        as_of, status=Mark.LATE.value, since="late_since", days="late_days", extra="AND m.note = ''"
    )


def falling_rate(as_of: datetime.date) -> Query:
    """出勤率下降: over the last ``watch_rate_window`` school days, the share of *recorded*
    days the child was in school (present or late) is below ``watch_rate`` percent. A
    recorded day is a roll call of the child's class, or a mark of the child on another
    class's roll (a mark follows the child); at least ``rate_min`` (half the window) must be
    recorded. Only children away at least once can fall below, so the scan starts from the
    window's absences."""
    enrolled, statuses = _enrolled()
    away, away_values = _in(ABSENT)
    sql = f"""
        WITH away AS (
            SELECT m.student_id, s.klass_id, w.rate_since, w.rate, w.rate_min,
                   SUM(CASE WHEN m.status IN ({away}) THEN 1 ELSE 0 END) AS away,
                   SUM(CASE WHEN r.klass_id = s.klass_id THEN 0 ELSE 1 END) AS elsewhere
            FROM {MARKS} m
            JOIN {STUDENTS} s ON s.id = m.student_id
            JOIN {WINDOW} w ON w.school_id = s.school_id
            JOIN {ROLLS} r ON r.id = m.roll_id
            WHERE m.date >= w.rate_since AND m.date <= %s AND {enrolled}
            GROUP BY m.student_id, s.klass_id, w.rate_since, w.rate, w.rate_min
            HAVING SUM(CASE WHEN m.status IN ({away}) THEN 1 ELSE 0 END) > 0
        ), rolls AS (
            SELECT r.klass_id, count(*) AS n FROM {ROLLS} r
            JOIN {WINDOW} w ON w.school_id = r.school_id
            WHERE r.date >= w.rate_since AND r.date <= %s
              AND r.klass_id IN (SELECT klass_id FROM away)
            GROUP BY r.klass_id
        )
        SELECT a.student_id FROM away a LEFT JOIN rolls ON rolls.klass_id = a.klass_id
        WHERE COALESCE(rolls.n, 0) + a.elsewhere >= a.rate_min
          AND (COALESCE(rolls.n, 0) + a.elsewhere - a.away) * 100
              < a.rate * (COALESCE(rolls.n, 0) + a.elsewhere)
    """  # noqa: S608 - table names from the models' own metadata
    return Query(sql, [*away_values, as_of, *statuses, *away_values, as_of])


def _with_entry(condition: str, params: list) -> Query:
    enrolled, statuses = _enrolled()
    sql = f"""
        SELECT DISTINCT e.student_id FROM {ENTRIES} e
        JOIN {STUDENTS} s ON s.id = e.student_id
        JOIN {WINDOW} w ON w.school_id = s.school_id
        WHERE {enrolled} AND {condition}
    """  # noqa: S608 - table names from the models' own metadata
    return Query(sql, [*statuses, *params])


def recent_return(as_of: datetime.date) -> Query:
    """劝返复学跟踪: the ledger says the child came back (已复学（跟踪）), or closed their entry
    as 已复学 within ``watch_return_days`` days (the 劝返 follow-up, DOMAIN.md §7)."""
    return _with_entry(*returned_sql("e", "w.returned_since"))


def earlier_episode(as_of: datetime.date) -> Query:
    """曾辍学: the child, enrolled now, has a closed ledger entry of a confirmed dropout (not
    one closed as an error or a duplicate) — an earlier episode (反弹 risk, DOMAIN.md §5)."""
    return _with_entry(
        "e.kind = %s AND e.state = %s AND e.closure_reason <> %s",
        [EntryKind.DROPOUT.value, State.CLOSED.value, ClosureReason.ERROR.value],
    )


# Every reason and its signal: the computation runs them all.
SIGNALS: dict[WatchReason, Callable[[datetime.date], Query]] = {
    WatchReason.KEY_GROUP: key_group,
    WatchReason.UNEXCUSED: rising_unexcused,
    WatchReason.RATE: falling_rate,
    WatchReason.LEARNING: learning_difficulty,
    WatchReason.RETURNED: recent_return,
    WatchReason.EPISODE: earlier_episode,
    WatchReason.LATENESS: unexplained_lateness,
}
