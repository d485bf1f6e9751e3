"""Reads of the ledger, always through the jurisdiction filter."""

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from students.choices import KeyGroup
from students.identity import normalise_id_number

from .choices import OPEN_STATES, Reason, State
from .models import LedgerEntry
from .terms import Term, next_start, term_of


def recent_terms(today: datetime.date | None = None, count: int = 6) -> list[Term]:
    """The current term and the ones before it, newest first, for the term filter."""
    day = today or timezone.localdate()
    terms = []
    for _ in range(count):
        term = term_of(day)
        terms.append(term)
        day = term.start - datetime.timedelta(days=1)
    return terms


def _term_range(start: str) -> tuple[datetime.date, datetime.date] | None:
    try:
        term = term_of(datetime.date.fromisoformat(start))
    except ValueError:
        return None
    return term.start, next_start(term)


def overdue_filter(today: datetime.date | None = None) -> Q:
    """Open entries not yet reviewed for the term once its classification month is over."""
    today = today or timezone.localdate()
    term = term_of(today)
    if today <= term.review_deadline:
        return Q(pk__in=[])
    return Q(state__in=OPEN_STATES) & ~Q(reviewed_term=term.label)


def entries(user, **filters) -> QuerySet[LedgerEntry]:
    """The entries of ``user``'s area, filtered; see ``filtered``."""
    scoped = LedgerEntry.objects.for_user(user).select_related("school", "township", "student")
    return filtered(scoped, **filters)


def filtered(
    result: QuerySet[LedgerEntry],
    *,
    query: str = "",
    township: int | None = None,
    school: int | None = None,
    grade: int | None = None,
    kind: str = "",
    state: str = "",
    reason: str = "",
    key_group: str = "",
    term: str = "",
    overdue: bool = False,
    rebound: bool = False,
    open_only: bool = False,
) -> QuerySet[LedgerEntry]:
    """``result`` (already scoped) narrowed by the list's search and filters; the pages and the
    API share it."""
    query = query.strip()
    if query:
        result = result.filter(Q(name__icontains=query) | Q(id_number=normalise_id_number(query)))
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
        result = result.filter(Q(reason=reason) | Q(other_reasons__icontains=f'"{reason}"'))
    if key_group in KeyGroup.values:
        # The snapshot is a JSON list of values; quoted, no value is part of another.
        result = result.filter(key_groups__icontains=f'"{key_group}"')
    if term and (bounds := _term_range(term)):
        result = result.filter(found_on__gte=bounds[0], found_on__lt=bounds[1])
    if overdue:
        result = result.filter(overdue_filter())
    if rebound:
        result = result.filter(previous__isnull=False)
    return result.order_by("-found_on", "-id")


def state_counts(queryset: QuerySet[LedgerEntry]) -> list[tuple[str, str, int]]:
    """(state, label, count) for every state, zeros included, in the machine's order."""
    counts = dict(
        queryset.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    return [(value, label, counts.get(value, 0)) for value, label in State.choices]


def timeline(entry: LedgerEntry):
    return entry.events.select_related("actor").order_by("at", "id")
