"""Explicit hooks between the apps above the ledger, which must not import each other
(STYLE.md §4): attendance tells, the 劝返 cases listen; the comparisons ask, attendance
answers.

``unexcused_absence`` is called by the attendance side when a roll marks students 旷课; each
listener registered with ``on_unexcused_absence`` (returns, in its ``ready()``) hears of it
in the same transaction. With no listener registered nothing happens.

``not_attending`` is asked by the comparisons (在籍不在校) and answered by the provider that
attendance registers with ``provide_not_attending``.
"""

import datetime
from collections.abc import Callable, Iterable

AbsenceListener = Callable[..., None]
_ABSENCE: list[AbsenceListener] = []


def on_unexcused_absence(listener: AbsenceListener) -> AbsenceListener:
    """Register ``listener(*, student_ids: list[int], day: date)``, once."""
    if listener not in _ABSENCE:
        _ABSENCE.append(listener)
    return listener


def unexcused_absence(*, student_ids: Iterable[int], day: datetime.date) -> None:
    """Students ``student_ids`` were marked 旷课 on ``day``."""
    student_ids = sorted(set(student_ids))
    if not student_ids:
        return
    for listener in _ABSENCE:
        listener(student_ids=student_ids, day=day)


# -- 在籍不在校 (issue 13): the comparisons ask, attendance answers -----------------------------

NotAttendingProvider = Callable[..., dict[int, datetime.date]]
_NOT_ATTENDING: list[NotAttendingProvider] = []


def provide_not_attending(provider: NotAttendingProvider) -> NotAttendingProvider:
    """Register ``provider(*, students: QuerySet, days: int, as_of: date)``, once (attendance,
    in its ``ready()``)."""
    if provider not in _NOT_ATTENDING:
        _NOT_ATTENDING.append(provider)
    return provider


def not_attending(students, *, days: int, as_of: datetime.date) -> dict[int, datetime.date]:
    """The students of ``students`` (a queryset) not at school on any of their class's last
    ``days`` recorded school days up to ``as_of``, as {student id: the first of those days}.
    With no provider registered, nobody."""
    found: dict[int, datetime.date] = {}
    for provider in _NOT_ATTENDING:
        found.update(provider(students=students, days=days, as_of=as_of))
    return found
