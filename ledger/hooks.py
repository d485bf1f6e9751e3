"""Explicit hooks between the apps above the ledger, which must not import each other
(STYLE.md §4): attendance tells, the 劝返 cases listen.

``unexcused_absence`` is called by the attendance side when a roll marks students 旷课; each
listener registered with ``on_unexcused_absence`` (returns, in its ``ready()``) hears of it
in the same transaction. With no listener registered nothing happens.
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
