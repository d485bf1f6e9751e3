"""学期分类复核 (DOMAIN.md §5, 000): every open entry is classified within one month of each
term start; an open entry not reviewed since the start of its current term once that month is
over is 逾期未分类 (overdue).

The terms are the school calendar's (``students.calendar``); the ledger has none of its own:

- an entry's calendar is its school's effective calendar or, for an entry without a school (a
  未入学 child), the default calendar of its responsible township's county;
- "its current term" on a day is the latest term that started on or before that day, so a
  break belongs to the term before; a calendar without terms has no overdue entries;
- an entry is classified on the day it is created and on each review (``reviewed_on``).

Lists, counts and exports run at county and province scale, so the two questions asked of
many entries — overdue today, found during a term — are answered in SQL: the calendars are
grouped by their answer and the groups turned into one ``Q`` (``per_calendar``).
"""

import calendar as month_calendar
import datetime
from collections import defaultdict
from collections.abc import Callable, Hashable
from functools import reduce
from operator import or_

from django.db.models import Q

from students.calendar import Calendar, TermCalendars, calendar_for, county_calendar
from students.models import Term

from .choices import OPEN_STATES


def review_deadline(start: datetime.date) -> datetime.date:
    """The last day of the classification month of a term starting on ``start``: the same day
    one month on, less one; or the end of the next month when it has no such day (a start on
    31 January runs to the end of February)."""
    year, month = divmod(start.month, 12)
    year, month = start.year + year, month + 1
    last = month_calendar.monthrange(year, month)[1]
    if start.day > last:
        return datetime.date(year, month, last)
    return datetime.date(year, month, start.day) - datetime.timedelta(days=1)


def per_calendar(
    calendars: TermCalendars,
    key: Callable[[Calendar], Hashable | None],
    condition: Callable[[Hashable], Q],
) -> Q | None:
    """One ``Q`` that selects, among the entries of every calendar, those meeting
    ``condition(key(calendar))``; a calendar whose key is None contributes no entry. None when
    no calendar contributes.

    Calendars with the same key share one clause, so the ``Q`` grows with the number of
    distinct answers (a handful of term starts), not with the number of counties. A school
    that overrides its county's terms but gets the county's answer needs no clause of its own.
    """
    county_keys = {county: key(cal) for county, cal in calendars.counties.items()}
    counties_by_key = defaultdict(list)
    for county, county_key in sorted(county_keys.items()):
        if county_key is not None:
            counties_by_key[county_key].append(county)
    schools_by_key = defaultdict(list)
    own_answer = defaultdict(list)  # county → its schools answering differently
    for school, (county, cal) in sorted(calendars.schools.items()):
        school_key = key(cal)
        if school_key == county_keys.get(county):
            continue
        own_answer[county].append(school)
        if school_key is not None:
            schools_by_key[school_key].append(school)
    clauses = []
    for group_key, counties in counties_by_key.items():
        with_school = Q(school__township__parent_id__in=counties)
        differing = [school for county in counties for school in own_answer[county]]
        if differing:
            with_school &= ~Q(school_id__in=differing)
        without_school = Q(school__isnull=True, township__parent_id__in=counties)
        clauses.append(condition(group_key) & (with_school | without_school))
    for group_key, schools in schools_by_key.items():
        clauses.append(condition(group_key) & Q(school_id__in=schools))
    return reduce(or_, clauses) if clauses else None


def overdue_q(calendars: TermCalendars, today: datetime.date) -> Q | None:
    """The entries overdue on ``today``: open, their calendar's current term past its
    classification month, and not reviewed since that term started. None: no entry is."""

    def current_start(cal: Calendar) -> datetime.date | None:
        term = cal.latest_term(today)
        if term is None or today <= review_deadline(term.start):
            return None
        return term.start

    stale = per_calendar(calendars, current_start, lambda start: Q(reviewed_on__lt=start))
    return None if stale is None else Q(state__in=sorted(OPEN_STATES)) & stale


def due_q(calendars: TermCalendars, today: datetime.date, notice_days: int) -> Q | None:
    """The entries whose classification falls due within ``notice_days`` of ``today``: open,
    their calendar's current term's classification month ending in that window, and not
    reviewed since the term started (what becomes ``overdue_q`` after the deadline)."""

    def current_start(cal: Calendar) -> datetime.date | None:
        term = cal.latest_term(today)
        if term is None:
            return None
        deadline = review_deadline(term.start)
        notice = deadline - datetime.timedelta(days=notice_days)
        return term.start if notice <= today <= deadline else None

    stale = per_calendar(calendars, current_start, lambda start: Q(reviewed_on__lt=start))
    return None if stale is None else Q(state__in=sorted(OPEN_STATES)) & stale


def found_in_term_q(calendars: TermCalendars, day: datetime.date) -> Q | None:
    """The entries found during the term ``day`` belongs to in each entry's own calendar:
    from that term's start up to the next term's start. None: no calendar has such a term."""

    def bounds(cal: Calendar) -> tuple[datetime.date, datetime.date | None] | None:
        term = cal.latest_term(day)
        return None if term is None else (term.start, cal.next_start(term))

    def condition(span: tuple[datetime.date, datetime.date | None]) -> Q:
        start, end = span
        found = Q(found_on__gte=start)
        return found & Q(found_on__lt=end) if end is not None else found

    return per_calendar(calendars, bounds, condition)


def entry_calendar(calendars: TermCalendars, entry) -> Calendar:
    """The entry's calendar among ``calendars`` (read ``school__township`` with the entry)."""
    if entry.school_id:
        return calendars.of(county_id=entry.school.township.parent_id, school_id=entry.school_id)
    return calendars.of(county_id=entry.township.parent_id)


def reviewed_term(calendars: TermCalendars, entry) -> Term | None:
    """The term the entry was last classified for (None: its calendar has no term then)."""
    return entry_calendar(calendars, entry).latest_term(entry.reviewed_on)


def own_calendar(entry) -> Calendar:
    """One entry's calendar, read for that entry alone (a review names the term)."""
    if entry.school_id:
        return calendar_for(entry.school_id)
    return county_calendar(entry.township.parent)
