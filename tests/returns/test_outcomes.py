"""Outcomes (issue 12 rule 6): a return with placement, grade and the ledger and 学籍 moved
through their own services; 延缓入学/休学 only when the rule allows; the follow-up watch."""

import datetime
from types import SimpleNamespace

import pytest
from django.test import override_settings

from accounts.choices import NotificationKind
from accounts.models import Notification
from kongchuo.errors import AppError
from ledger import hooks
from ledger.choices import State
from ledger.models import LedgerEntry
from returns import services
from returns.choices import Action, CaseState, Placement, Step
from students.choices import EventKind, Status
from students.models import CalendarDay
from tests.ledger.conftest import add_term, head_class
from tests.returns.conftest import OFFICIAL, days, footprint, joint, returned, working

pytestmark = pytest.mark.django_db

FOUND = datetime.date(2026, 1, 10)


@pytest.mark.parametrize(
    ("grade", "returned_on", "suggested"),
    [
        (4, datetime.date(2026, 3, 9), 4),  # under 3 months: the same grade
        (4, datetime.date(2026, 4, 10), 3),  # 3–12 months: one grade lower
        (1, datetime.date(2026, 6, 1), 1),  # never below grade 1
        (4, datetime.date(2027, 1, 10), None),  # a year or more: by age and an assessment
        (None, datetime.date(2026, 2, 1), None),  # never enrolled: likewise
    ],
)
def test_suggested_grade_follows_the_time_out_of_school(grade, returned_on, suggested):
    entry = SimpleNamespace(found_on=FOUND, grade=grade)
    assert services.suggested_grade(entry, returned_on).grade == suggested


@override_settings(RETURNS_GRADE_BY_MONTHS=((6, 0),))
def test_suggested_grade_is_a_setting():
    entry = SimpleNamespace(found_on=FOUND, grade=4)
    assert services.suggested_grade(entry, datetime.date(2026, 5, 1)).grade == 4


def test_return_records_placement_school_class_grade_resume_and_the_ledger_follows(world, child):
    case = working(world, child)
    klass = head_class(world)
    case = services.case_return(
        by=world.user(OFFICIAL), case=case, placement=Placement.REGULAR, klass=klass
    )
    assert case.state == CaseState.RETURNED and case.placement == Placement.REGULAR
    assert case.return_school == klass.school and case.return_grade == klass.grade == 1
    assert case.follow_up_until > case.returned_on
    entry = LedgerEntry.objects.get(pk=case.entry_id)
    assert entry.state == State.RETURNED
    child.refresh_from_db()
    assert child.status == Status.ENROLLED
    assert child.events.filter(kind=EventKind.RESUME).count() == 1


def test_return_after_a_year_needs_the_grade_by_assessment(world, child):
    case = working(world, child)
    LedgerEntry.objects.filter(pk=case.entry_id).update(found_on=days(-400))
    before = footprint(case)
    with pytest.raises(AppError) as refused:
        services.case_return(by=world.user(OFFICIAL), case=case, placement=Placement.REGULAR)
    assert "grade" in refused.value.errors and footprint(case) == before
    case = services.case_return(
        by=world.user(OFFICIAL), case=case, placement=Placement.GROUP, grade=1
    )
    assert case.return_grade == 1


def test_return_needs_a_placement(world, child):
    case = working(world, child)
    before = footprint(case)
    with pytest.raises(AppError) as refused:
        services.case_return(by=world.user(OFFICIAL), case=case, placement="abroad")
    assert "placement" in refused.value.errors and footprint(case) == before


def test_deferral_before_the_rule_allows_is_refused_and_changes_nothing(world, child):
    case = working(world, child)
    joint(world, case, 2)
    before = footprint(case)
    with pytest.raises(AppError, match="联合劝返不少于3次（已2次）"):
        services.case_defer(by=world.user(OFFICIAL), case=case, reason="仍拒绝返校")
    assert footprint(case) == before


def test_deferral_after_three_joint_persuasions_keeps_the_case_open(world, child):
    case = working(world, child)
    joint(world, case, 3)
    case = services.case_defer(by=world.user(OFFICIAL), case=case, reason="仍拒绝返校")
    assert case.state == CaseState.DEFERRED and case.is_open
    # Persuasion goes on, and the child may still return.
    services.action_record(
        by=world.user(OFFICIAL), case=case, date=days(0), method="phone", result="继续做工作"
    )
    case = services.case_return(by=world.user(OFFICIAL), case=case, placement=Placement.REGULAR)
    assert case.state == CaseState.RETURNED


def test_deferral_after_all_four_steps(world, child):
    case = working(world, child)
    official = world.user(OFFICIAL)
    case = services.step_advance(by=official, case=case, step=Step.PENALTY, reason="拒不配合")
    case = services.step_advance(by=official, case=case, step=Step.COURT)
    case = services.case_defer(by=official, case=case, reason="法院审理中，暂缓")
    assert case.state == CaseState.DEFERRED


def test_deferral_after_a_court_ruling_with_the_guardians_duty_done(world, child):
    case = working(world, child)
    case = services.case_defer(
        by=world.user(OFFICIAL), case=case, reason="法院判决后监护人已履行", court_ruling=True
    )
    assert "法院已判决" in case.events.get(action=Action.DEFER).note


@override_settings(RETURNS_DEFER_JOINT_ACTIONS=None, RETURNS_DEFER_COURT_RULING=False)
def test_deferral_grounds_are_settings(world, child):
    case = working(world, child)
    joint(world, case, 3)
    with pytest.raises(AppError):
        services.case_defer(by=world.user(OFFICIAL), case=case, reason="仍拒绝", court_ruling=True)


def test_unexcused_absence_during_the_follow_up_alerts_the_team_at_once_and_once(world, child):
    case = returned(world, child)
    teacher = world.user("xz1_xx1_banzhuren")
    services.member_add(by=world.user(OFFICIAL), case=case, user=teacher, duty="teacher")
    day = days(1)
    for _ in range(2):  # the roll corrected and submitted again
        hooks.unexcused_absence(student_ids=[child.pk], day=day)
    alerts = Notification.objects.filter(kind=NotificationKind.FOLLOW_UP_ALERT)
    assert set(alerts.values_list("recipient__username", flat=True)) == {
        "xz1_ganbu",
        "xz1_xx1_banzhuren",
    }
    assert alerts.count() == 2
    assert case.events.filter(action=Action.ALERT).count() == 1


def test_absence_after_the_follow_up_is_not_an_alert(world, child):
    case = returned(world, child)
    hooks.unexcused_absence(
        student_ids=[child.pk], day=case.follow_up_until + datetime.timedelta(days=1)
    )
    assert not Notification.objects.filter(kind=NotificationKind.FOLLOW_UP_ALERT).exists()


def test_follow_up_counts_school_days_of_the_calendar(world, child):
    start = datetime.date(2026, 3, 2)  # a Monday
    county = child.school.township.parent
    add_term(county, start, datetime.date(2026, 7, 10))
    # The 40th weekday after Monday 2 March is Monday 27 April; the calendar's holiday on
    # 6 April moves it to Tuesday 28 April.
    CalendarDay.objects.create(county=county, date=datetime.date(2026, 4, 6), kind="holiday")
    assert services.follow_up_end(child.school, start) == datetime.date(2026, 4, 28)


def test_close_after_the_follow_up(world, child):
    case = returned(world, child)
    case = services.case_close(by=world.user(OFFICIAL), case=case, note="跟踪期内正常上学")
    assert case.state == CaseState.CLOSED and not case.is_open
