"""劝返 case fixtures: a confirmed dropout of county A's first school (户籍 in its township,
xz1), the people who handle it, and the way to bring a case into any state through the
services."""

import datetime

import pytest
from django.utils import timezone

from accounts.choices import AuditAction
from accounts.models import AuditEvent, Notification
from ledger.choices import State
from returns import services
from returns.choices import CaseState, Department, Method, Placement
from returns.models import CaseEvent, ReturnCase
from tests.ledger.conftest import entry_in, head_class, make_student
from tests.ledger.conftest import footprint as entry_footprint

COUNTY_USER = "xian_staff"
OFFICIAL = "xz1_ganbu"  # the township of the child's 户籍 and school
TODAY = timezone.localdate


def confirmed(world, student):
    return entry_in(world, State.CONFIRMED, student)


def open_case(world, student, **kwargs) -> ReturnCase:
    return services.case_open(by=world.user(COUNTY_USER), entry=confirmed(world, student), **kwargs)


def working(world, student, **kwargs) -> ReturnCase:
    case = open_case(world, student, **kwargs)
    return services.case_acknowledge(by=world.user(OFFICIAL), case=case)


def visit(world, case, username=OFFICIAL, **overrides):
    values = {
        "date": TODAY(),
        "method": Method.VISIT,
        "result": "监护人同意下周送孩子返校",
    }
    values.update(overrides)
    return services.action_record(by=world.user(username), case=case, **values)


def joint(world, case, times=1):
    for _ in range(times):
        visit(world, case, method=Method.JOINT, departments=[Department.POLICE])


def returned(world, student, **kwargs) -> ReturnCase:
    case = working(world, student)
    return services.case_return(
        by=world.user(OFFICIAL), case=case, placement=Placement.REGULAR, **kwargs
    )


def deferred(world, student) -> ReturnCase:
    case = working(world, student)
    joint(world, case, 3)
    return services.case_defer(by=world.user(OFFICIAL), case=case, reason="监护人仍拒绝送学")


def closed(world, student) -> ReturnCase:
    case = returned(world, student)
    return services.case_close(by=world.user(OFFICIAL), case=case, note="跟踪期内正常上学")


ROUTES = {
    CaseState.INSTRUCTED: open_case,
    CaseState.WORKING: working,
    CaseState.RETURNED: returned,
    CaseState.DEFERRED: deferred,
    CaseState.CLOSED: closed,
}


def case_in(world, state: CaseState, student) -> ReturnCase:
    case = ROUTES[state](world, student)
    assert case.state == state
    return fresh(case)


def fresh(case: ReturnCase) -> ReturnCase:
    return ReturnCase.objects.select_related("entry", "township").get(pk=case.pk)


def footprint(case: ReturnCase) -> tuple:
    """Everything a case service could change: the case, its rows, the ledger entry's own
    footprint, notifications. A refused action leaves it as it was."""
    row = ReturnCase.objects.values().get(pk=case.pk)
    row.pop("updated_at")
    return (
        row,
        list(CaseEvent.objects.filter(case=case).values_list("pk", flat=True)),
        list(case.members.values_list("user_id", "duty")),
        case.plans.count(),
        case.actions.count(),
        entry_footprint(case.entry),
        Notification.objects.count(),
        # Views are logged (who viewed a child): a refused write changes nothing else.
        AuditEvent.objects.exclude(action=AuditAction.VIEW).count(),
    )


def days(n: int) -> datetime.date:
    return TODAY() + datetime.timedelta(days=n)


@pytest.fixture
def child(world):
    """A first-grader of county A's first 中心校 (township xz1), 户籍 in xz1."""
    return make_student(world, grade=1, klass=head_class(world))
