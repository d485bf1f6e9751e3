"""Reads of the ledger, always through the jurisdiction filter."""

import datetime
from dataclasses import dataclass

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Value
from django.utils import timezone

from accounts.choices import RegionLevel
from accounts.models import Region, School
from kongchuo import crypto
from students.calendar import (
    TermCalendars,
    calendar_for,
    calendar_owner,
    county_calendar,
    term_calendars,
)
from students.choices import KeyGroup
from students.identity import normalise_id_number
from students.models import Term

from . import terms
from .choices import OPEN_STATES, Action, Reason, State
from .models import LedgerEntry


@dataclass(frozen=True)
class TermOption:
    """One choice of the term filter: the term's name and a day inside it."""

    name: str
    day: datetime.date


def _county_above(region: Region | None) -> Region | None:
    while region is not None and region.level > RegionLevel.COUNTY:
        region = region.parent
    return region if region is not None and region.level == RegionLevel.COUNTY else None


def term_options(user, *, today: datetime.date | None = None, count: int = 6) -> list[TermOption]:
    """The term filter's choices, newest first: the recent terms of the user's own calendar
    (a township's or a village's: its county's default). Above the county, the default terms
    of the counties in the area, one choice per name, whose day is the latest of their starts:
    counties whose terms start a few days apart all have that day inside the term."""
    today = today or timezone.localdate()
    owner = calendar_owner(user) or _county_above(user.region if user.region_id else None)
    if owner is not None:
        cal = calendar_for(owner) if isinstance(owner, School) else county_calendar(owner)
        started = [term for term in cal.terms if term.start <= today][-count:]
        return [TermOption(term.name, term.start) for term in reversed(started)]
    latest: dict[str, datetime.date] = {}
    rows = Term.objects.for_user(user).filter(county__isnull=False, start__lte=today)
    for name, start in rows.values_list("name", "start"):
        latest[name] = max(start, latest.get(name, start))
    options = [TermOption(name, day) for name, day in latest.items()]
    return sorted(options, key=lambda option: option.day, reverse=True)[:count]


def with_overdue(
    queryset: QuerySet[LedgerEntry],
    *,
    today: datetime.date | None = None,
    calendars: TermCalendars | None = None,
) -> QuerySet[LedgerEntry]:
    """``queryset`` with ``is_overdue``: 逾期未分类 on ``today`` (ledger.terms), in SQL."""
    condition = terms.overdue_q(calendars or term_calendars(), today or timezone.localdate())
    flag = (
        ExpressionWrapper(condition, output_field=BooleanField())
        if condition is not None
        else Value(False, output_field=BooleanField())
    )
    return queryset.annotate(is_overdue=flag)


def name_reviewed_terms(entries, calendars: TermCalendars | None = None) -> None:
    """Set ``reviewed_term`` on each of ``entries`` (read with ``school__township``): the term
    of its own calendar that its last classification falls in, or None."""
    calendars = calendars or term_calendars()
    for entry in entries:
        entry.reviewed_term = terms.reviewed_term(calendars, entry)


def entries(
    user,
    *,
    today: datetime.date | None = None,
    calendars: TermCalendars | None = None,
    **filters,
) -> QuerySet[LedgerEntry]:
    """The entries of ``user``'s area with ``is_overdue``, filtered; see ``filtered``."""
    calendars = calendars or term_calendars()
    scoped = LedgerEntry.objects.for_user(user).select_related(
        "school__township", "township", "student"
    )
    scoped = with_overdue(scoped, today=today, calendars=calendars)
    return filtered(scoped, today=today, calendars=calendars, **filters)


def filtered(
    result: QuerySet[LedgerEntry],
    *,
    query: str = "",
    county: int | None = None,
    township: int | None = None,
    school: int | None = None,
    grade: int | None = None,
    kind: str = "",
    state: str = "",
    reason: str = "",
    key_group: str = "",
    term: str | datetime.date = "",
    overdue: bool = False,
    rebound: bool = False,
    open_only: bool = False,
    today: datetime.date | None = None,
    calendars: TermCalendars | None = None,
) -> QuerySet[LedgerEntry]:
    """``result`` (already scoped) narrowed by the list's search and filters; the pages and the
    API share it. ``term`` is a day (ISO): the entries found during the term that day belongs
    to in each entry's own calendar; ``overdue``: 逾期未分类 on ``today`` (default: today)."""
    query = query.strip()
    if query:
        result = result.filter(
            Q(name__icontains=query) | Q(id_hash=crypto.match_hash(normalise_id_number(query)))
        )
    if county:
        result = result.filter(township__parent_id=county)
    if township:
        result = result.filter(township_id=township)
    if school:
        result = result.filter(school_id=school)
    if grade:
        result = result.filter(grade=grade)
    if kind:
        result = result.filter(kind=kind)
    if state:
        result = result.filter(state=state)
    if open_only:
        result = result.filter(state__in=OPEN_STATES)
    if reason in Reason.values:
        result = result.filter(Q(reason=reason) | Q(other_reasons__has_value=reason))
    if key_group in KeyGroup.values:
        result = result.filter(key_groups__has_value=key_group)
    if term and (day := _day(term)):
        found = terms.found_in_term_q(calendars or term_calendars(), day)
        result = result.filter(found) if found is not None else result.none()
    if overdue:
        stale = terms.overdue_q(calendars or term_calendars(), today or timezone.localdate())
        result = result.filter(stale) if stale is not None else result.none()
    if rebound:
        result = result.filter(previous__isnull=False)
    return result.order_by("-found_on", "-id")


def _day(value: str | datetime.date) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def state_counts(queryset: QuerySet[LedgerEntry]) -> list[tuple[str, str, int]]:
    """(state, label, count) for every state, zeros included, in the machine's order."""
    counts = dict(
        queryset.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    return [(value, label, counts.get(value, 0)) for value, label in State.choices]


def timeline(entry: LedgerEntry):
    return entry.events.select_related("actor").order_by("at", "id")


def proposer_of(entry: LedgerEntry):
    """Who proposed the entry's latest 销号 (None: nobody yet)."""
    event = entry.events.filter(action=Action.PROPOSE).order_by("-at", "-id").first()
    return event.actor if event else None


def has_other_open_entry(entry: LedgerEntry) -> bool:
    return entry.student is not None and (
        entry.student.ledger_entries.filter(state__in=OPEN_STATES).exclude(pk=entry.pk).exists()
    )
