"""Terms, for the ledger's classification rule (DOMAIN.md §5, 000): within one month of each
term start every open entry is reviewed for the term; later, an unreviewed entry is overdue.

Term starts come from ``settings.LEDGER_TERM_STARTS`` until the school calendar takes over.
"""

import calendar
import datetime
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Term:
    label: str
    start: datetime.date

    @property
    def review_deadline(self) -> datetime.date:
        """The last day of the classification month: the same day one month on, less one;
        or the end of the next month when it has no such day (a start on 31 January runs to
        the end of February)."""
        year, month = divmod(self.start.month, 12)
        year, month = self.start.year + year, month + 1
        last = calendar.monthrange(year, month)[1]
        if self.start.day > last:
            return datetime.date(year, month, last)
        return datetime.date(year, month, self.start.day) - datetime.timedelta(days=1)


def _label(start: datetime.date) -> str:
    # The school year starts in the autumn: a term starting in the second half of the
    # calendar year is the year's first term.
    if start.month >= 7:
        return f"{start.year}-{start.year + 1}学年第一学期"
    return f"{start.year - 1}-{start.year}学年第二学期"


def _starts_around(day: datetime.date) -> list[datetime.date]:
    return sorted(
        datetime.date(year, month, start_day)
        for year in (day.year - 1, day.year, day.year + 1)
        for month, start_day in settings.LEDGER_TERM_STARTS
    )


def term_of(day: datetime.date) -> Term:
    """The term ``day`` falls in: the latest term start on or before it."""
    start = max(start for start in _starts_around(day) if start <= day)
    return Term(label=_label(start), start=start)


def next_start(term: Term) -> datetime.date:
    """The first day after ``term``."""
    return min(start for start in _starts_around(term.start) if start > term.start)


def is_review_overdue(reviewed_term: str, day: datetime.date) -> bool:
    term = term_of(day)
    return reviewed_term != term.label and day > term.review_deadline
