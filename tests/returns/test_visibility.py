"""Who sees and who acts (issue 12 rule 2): the responsible township(s), the team, the
child's school and the county see the case; only the responsible township and the team act;
the school's own township, when another one, reads; everyone else gets a 404. The ledger
follows the same rule for its township actions."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from accounts import jurisdiction
from accounts.permissions import can
from kongchuo.errors import AppError
from ledger import permissions as ledger_permissions
from ledger.choices import Action as EntryAction
from returns import selectors, services
from returns.choices import Duty, Step
from returns.models import CaseAction, CaseEvent, ReturnCase
from returns.permissions import NOT_WORKER
from tests.ledger.conftest import head_class, make_student, township
from tests.returns.conftest import OFFICIAL, confirmed, days, open_case, visit, working

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(world):
    """A child of township xz1's school whose 户籍 is township xz2: xz2 persuades."""
    return make_student(world, grade=1, hukou_region=township(world, "xz2_ganbu"))


def test_team_member_of_another_township_sees_and_acts_non_members_there_get_404(world, child):
    case = working(world, child)
    outsider = world.user("xz2_ganbu")
    with pytest.raises(Http404):
        jurisdiction.get_or_404(outsider, ReturnCase, pk=case.pk)
    services.member_add(by=world.user(OFFICIAL), case=case, user=outsider, duty=Duty.CADRE)
    assert jurisdiction.get_or_404(outsider, ReturnCase, pk=case.pk) == case
    action = visit(world, case, "xz2_ganbu")
    # The case's rows follow it, once each however many members it has.
    assert list(CaseAction.objects.for_user(outsider)) == [action]
    assert CaseEvent.objects.for_user(outsider).count() == case.events.count()
    with pytest.raises(Http404):
        jurisdiction.get_or_404(world.user("xz2_cungan"), ReturnCase, pk=case.pk)
    assert case in selectors.my_cases(outsider)


def test_only_the_ledgers_responsible_township_registers_the_return_team_members_visit(
    world, child
):
    """登记复学 moves the ledger entry, so the ledger's 劝返主体 takes it: a team member of
    another township records visits and plans but is refused the return, nothing changed."""
    case = working(world, child)
    outsider = world.user("xz2_ganbu")
    services.member_add(by=world.user(OFFICIAL), case=case, user=outsider, duty=Duty.CADRE)
    case.refresh_from_db()
    assert can(outsider, "returns.action", case)
    assert not can(outsider, "returns.return", case)
    assert can(world.user(OFFICIAL), "returns.return", case)
    with pytest.raises(AppError, match="劝返主体为其他乡镇"):
        services.case_return(by=outsider, case=case, placement="regular")
    case.refresh_from_db()
    assert case.state == "working" and case.entry.state == "persuading"


def test_schools_township_reads_the_case_but_does_not_act(world, elsewhere):
    case = services.case_open(by=world.user("xian_staff"), entry=confirmed(world, elsewhere))
    case = services.case_acknowledge(by=world.user("xz2_ganbu"), case=case)
    school_township = world.user("xz1_ganbu")
    assert jurisdiction.get_or_404(school_township, ReturnCase, pk=case.pk) == case
    with pytest.raises(AppError, match=NOT_WORKER):
        visit(world, case, "xz1_ganbu")
    assert case not in selectors.my_cases(school_township)
    visit(world, case, "xz2_ganbu")


def test_ledger_township_actions_follow_the_responsible_township(world, elsewhere):
    """A school's township used to propose 销号 for an entry another township persuades."""
    entry = confirmed(world, elsewhere)
    assert entry.township == township(world, "xz2_ganbu")
    propose = ledger_permissions.key(EntryAction.PROPOSE)
    assert not can(world.user("xz1_ganbu"), propose, entry)
    assert not can(world.user("xz1_cungan"), propose, entry)
    assert can(world.user("xz2_ganbu"), propose, entry)
    assert can(world.user("xz2_cungan"), propose, entry)
    assert can(world.user("xz1_xx1_guanli"), propose, entry)  # the school still may


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("xz1_xx1_guanli", True),  # the child's school
        ("xz1_xx1_banzhuren", True),  # the child's class teacher
        ("xian_staff", True),
        ("shi_dudao", True),
        ("xz2_xx1_guanli", False),  # another school
        ("c2_xian_staff", False),
    ],
)
def test_the_school_and_the_county_see_another_school_gets_404(world, child, username, sees):
    case = working(world, child)
    user = world.user(username)
    if sees:
        assert jurisdiction.get_or_404(user, ReturnCase, pk=case.pk) == case
    else:
        with pytest.raises(Http404):
            jurisdiction.get_or_404(user, ReturnCase, pk=case.pk)


def test_my_cases_are_ordered_by_urgency_overdue_idle_new_then_the_rest(world):
    official = world.user(OFFICIAL)
    klass = head_class(world)
    students = [make_student(world, grade=1, klass=klass, name=name) for name in "甲乙丙丁"]
    rest = working(world, students[0])
    visit(world, rest)
    new = open_case(world, students[1])
    idle = working(world, students[2])
    ReturnCase.objects.filter(pk=idle.pk).update(
        acknowledged_at=timezone.now() - datetime.timedelta(days=20)
    )
    overdue = working(world, students[3])
    services.step_advance(by=official, case=overdue, step=Step.ORDER, deadline=days(3))
    ReturnCase.objects.filter(pk=overdue.pk).update(step_deadline=days(-1))
    order = list(selectors.my_cases(official))
    assert order == [overdue, idle, new, rest]
    assert [case.urgency for case in order] == [0, 1, 2, 3]
    assert list(selectors.cases(official, overdue=True)) == [overdue]
    assert list(selectors.cases(world.user("xian_staff"), step=Step.ORDER)) == [overdue]
