"""Reads of 劝返 cases, always through the jurisdiction filter, and the conditions that the
list, the home page and the reminders share (overdue, deadline near, idle, not signed for)."""

import datetime

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Region, User
from accounts.selectors import recipients_for_township
from kongchuo import crypto
from ledger.permissions import township_of
from ledger.transitions import COUNTY, TOWNSHIP
from students.identity import normalise_id_number

from .choices import CaseState, Method, Step
from .models import CaseEvent, CaseMember, ReturnCase

_ACTIVE = (CaseState.WORKING, CaseState.DEFERRED)


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def overdue_q(today: datetime.date) -> Q:
    """责令改正 whose deadline has passed without the next step or a return."""
    return Q(state__in=_ACTIVE, step=Step.ORDER, step_deadline__lt=today)


def deadline_near_q(today: datetime.date) -> Q:
    near = today + _days(settings.RETURNS_DEADLINE_NEAR_DAYS)
    return Q(state__in=_ACTIVE, step=Step.ORDER, step_deadline__gte=today, step_deadline__lte=near)


def idle_q(today: datetime.date) -> Q:
    """Worked cases with no action logged for RETURNS_IDLE_DAYS since the last action, the
    signature, or (a case the county holds) the instruction."""
    cutoff = today - _days(settings.RETURNS_IDLE_DAYS)
    return Q(state__in=_ACTIVE) & (
        Q(last_action_on__lte=cutoff)
        | Q(last_action_on=None, acknowledged_at__date__lte=cutoff)
        | Q(last_action_on=None, acknowledged_at=None, instructed_at__date__lte=cutoff)
    )


def unacknowledged_q(today: datetime.date, days: int | None = None) -> Q:
    """Instructions not signed for ``days`` (RETURNS_ACK_DAYS) after they were sent."""
    days = settings.RETURNS_ACK_DAYS if days is None else days
    return Q(state=CaseState.INSTRUCTED, instructed_at__date__lte=today - _days(days))


def follow_up_due_q(today: datetime.date) -> Q:
    return Q(state=CaseState.RETURNED, follow_up_until__lte=today)


# What waits on a case, by the name the list's ``due`` filter and the home page's links use.
DUE = {
    "deadline": lambda today: deadline_near_q(today) | overdue_q(today),
    "idle": idle_q,
    "follow_up": follow_up_due_q,
    "unacknowledged": unacknowledged_q,
}


def due_labels() -> dict[str, str]:
    """The ``due`` filter's choices, as the list offers them (the settings name the days)."""
    return {
        "deadline": "责令改正期限将到或已过",
        "idle": f"超过{settings.RETURNS_IDLE_DAYS}天未开展劝返",
        "follow_up": "复学跟踪期满待复查",
        "unacknowledged": f"超过{settings.RETURNS_ACK_DAYS}天未签收",
    }


def mine_q(user) -> Q:
    """The cases ``user`` works: on the team, of their township, or held by their county."""
    condition = Q(pk__in=CaseMember.objects.filter(user_id=user.pk).values("case_id"))
    if user.role in TOWNSHIP:
        township = township_of(user)
        condition |= Q(township_id=township) | Q(co_township_id=township)
    elif user.role in COUNTY and user.region_id:
        condition |= Q(township=None, county_id=user.region_id)
    return condition


def mine_by_default(user) -> bool:
    """Whether ``user``'s case list opens on "my cases": a township's accounts, and anyone on
    a case's team (a teacher, a county cadre)."""
    return user.role in TOWNSHIP or CaseMember.objects.filter(user_id=user.pk).exists()


def with_urgency(queryset: QuerySet, today: datetime.date) -> QuerySet:
    """``urgency``: 0 责令改正 overdue, 1 no action for RETURNS_IDLE_DAYS, 2 a new instruction,
    3 the rest, 4 closed — the order of "my cases" and of the county's list."""
    return queryset.annotate(
        urgency=Case(
            When(overdue_q(today), then=Value(0)),
            When(idle_q(today), then=Value(1)),
            When(state=CaseState.INSTRUCTED, then=Value(2)),
            When(state=CaseState.CLOSED, then=Value(4)),
            default=Value(3),
            output_field=IntegerField(),
        )
    )


def urgency_reason(case: ReturnCase) -> str:
    """Why a case (from ``cases``, with ``urgency``) comes first: shown on its card."""
    return {
        0: f"责令改正期限（{case.step_deadline:%Y-%m-%d}）已过" if case.step_deadline else "",
        1: f"超过{settings.RETURNS_IDLE_DAYS}天未开展劝返",
        2: "新的劝返指令，待签收",
    }.get(case.urgency, "")


def cases(
    user,
    *,
    mine: bool = False,
    township: int | None = None,
    step: int | None = None,
    state: str = "",
    overdue: bool = False,
    open_only: bool = False,
    today: datetime.date | None = None,
    county: int | None = None,
    query: str = "",
    due: str = "",
) -> QuerySet[ReturnCase]:
    """The cases of ``user``'s area (``mine``: those they work), most urgent first, filtered by
    county (above the county), township (responsible or working with it), step, state (the
    outcome), overdue, what waits on them (``due``: a key of DUE; an unknown one matches
    nothing) and the child's name or ID number (``query``). The list page, its export, the
    home page's links and the API share it."""
    today = today or timezone.localdate()
    result = ReturnCase.objects.for_user(user).select_related(
        "entry", "county", "township", "co_township", "school"
    )
    if mine:
        result = result.filter(mine_q(user))
    query = query.strip()
    if query:
        result = result.filter(
            Q(entry__name__icontains=query)
            | Q(entry__id_hash=crypto.match_hash(normalise_id_number(query)))
        )
    if county:
        result = result.filter(county_id=county)
    if township:
        result = result.filter(Q(township_id=township) | Q(co_township_id=township))
    if step:
        result = result.filter(step=step)
    if state:
        result = result.filter(state=state)
    elif open_only:
        result = result.exclude(state=CaseState.CLOSED)
    if overdue:
        result = result.filter(overdue_q(today))
    if due:
        result = result.filter(DUE[due](today)) if due in DUE else result.none()
    return with_urgency(result, today).order_by(
        "urgency", F("step_deadline").asc(nulls_last=True), "-instructed_at", "-id"
    )


def state_counts(queryset: QuerySet[ReturnCase]) -> list[tuple[str, str, int]]:
    """(state, label, how many) of ``queryset`` for every state, in one grouped query."""
    found = dict(queryset.order_by().values_list("state").annotate(n=Count("pk")))
    return [(value, label, found.get(value, 0)) for value, label in CaseState.choices]


def my_cases(user, **filters) -> QuerySet[ReturnCase]:
    """ "My cases" of a township official, cadre or team member: open, most urgent first."""
    return cases(user, mine=True, open_only=True, **filters)


def timeline(case: ReturnCase) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor", "region").order_by("at", "id")


def joint_count(case: ReturnCase) -> int:
    """联合劝返 recorded on the case (the 延缓入学 rule counts them)."""
    return case.actions.filter(method=Method.JOINT).count()


def county_staff(county: Region) -> QuerySet[User]:
    return User.objects.filter(region=county, role=Role.COUNTY_STAFF, is_active=True)


def workers(case: ReturnCase) -> list[User]:
    """Who is told about a case's work: its team, and the officials of its township(s) — of
    the county's staff while it holds the case."""
    people = {member.user.pk: member.user for member in case.members.select_related("user")}
    if case.township_id is None:
        people.update({user.pk: user for user in county_staff(case.county)})
    for township in (case.township, case.co_township):
        if township is not None:
            people.update({user.pk: user for user in recipients_for_township(township)})
    return list(people.values())
