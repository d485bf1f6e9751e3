"""Reminders (issue 12 rule 8, DOMAIN.md §9): each sent once per person per deadline, even
when the job runs twice; the county hears of what is late."""

import datetime

import pytest
from django.conf import settings

from accounts import home
from accounts.choices import NotificationKind
from accounts.models import Notification
from returns import reminders, services, tasks
from returns.choices import Step
from tests.returns.conftest import OFFICIAL, days, open_case, returned, working

pytestmark = pytest.mark.django_db


def _reminded(title_part: str) -> set[str]:
    rows = Notification.objects.filter(
        kind=NotificationKind.RETURN_REMINDER, title__contains=title_part
    )
    return set(rows.values_list("recipient__username", flat=True))


def _twice(today: datetime.date) -> int:
    first = reminders.send(today)
    assert reminders.send(today) == 0  # the job ran again: nothing more
    return first


def test_instruction_not_acknowledged_in_two_days_reminds_the_township_and_the_county(world, child):
    open_case(world, child)
    assert reminders.send(days(1)) == 0
    assert _twice(days(2)) == 2
    assert _reminded("未签收") == {"xz1_ganbu", "xian_staff"}
    assert reminders.send(days(3)) == 0  # the same instruction: once per person


def test_order_deadline_near_reminds_those_who_work_the_case(world, child):
    case = working(world, child)
    services.step_advance(by=world.user(OFFICIAL), case=case, step=Step.ORDER, deadline=days(5))
    assert reminders.send(days(1)) == 0
    assert _twice(days(2)) == 1
    assert _reminded("将到") == {"xz1_ganbu"}


def test_order_deadline_passed_reminds_the_township_and_then_the_county(world, child):
    case = working(world, child)
    services.step_advance(by=world.user(OFFICIAL), case=case, step=Step.ORDER, deadline=days(5))
    _twice(days(6))
    assert _reminded("已过") == {"xz1_ganbu", "xian_staff"}


def test_no_action_for_fourteen_days_reminds_the_team(world, child):
    case = working(world, child)
    services.member_add(
        by=world.user(OFFICIAL), case=case, user=world.user("xz1_cungan"), duty="village_cadre"
    )
    assert reminders.send(days(settings.RETURNS_IDLE_DAYS - 1)) == 0
    assert _twice(days(settings.RETURNS_IDLE_DAYS)) == 2
    assert _reminded("未开展劝返") == {"xz1_ganbu", "xz1_cungan"}


def test_follow_up_due_reminds_the_township(world, child):
    case = returned(world, child)
    assert reminders.send(case.follow_up_until - datetime.timedelta(days=1)) == 0
    assert _twice(case.follow_up_until) == 1
    assert _reminded("跟踪期满") == {"xz1_ganbu"}


def test_the_task_runs_every_morning_and_sends_the_reminders(world, child):
    entry = settings.CELERY_BEAT_SCHEDULE["return-case-reminders"]
    assert entry["task"] == "returns.tasks.reminders"
    open_case(world, child)
    assert tasks.reminders() == 0  # nothing is due on the day of the instruction


def test_home_pages_list_what_waits_for_each_person(world, child):
    case = open_case(world, child)
    township_items = {
        item.key: item.count for item in home.work(home.desk(world.user(OFFICIAL), days(0)))
    }
    assert township_items["returns-to-acknowledge"] == 1
    county = {item.key: item for item in home.work(home.desk(world.user("xian_staff"), days(2)))}
    assert county["returns-unacknowledged"].count == 1
    province = {item.key: item for item in home.work(home.desk(world.user("sheng_dudao"), days(2)))}
    assert province["returns-unacknowledged"].by_county == {case.county_id: 1}
    case = services.case_acknowledge(by=world.user(OFFICIAL), case=case)
    services.step_advance(by=world.user(OFFICIAL), case=case, step=Step.ORDER, deadline=days(3))
    later = {item.key: item.count for item in home.work(home.desk(world.user(OFFICIAL), days(4)))}
    assert later["returns-deadline"] == 1 and later["returns-to-acknowledge"] == 0
    county = {
        item.key: item.count for item in home.work(home.desk(world.user("xian_staff"), days(4)))
    }
    assert county["returns-overdue"] == 1
    # A teacher on no team has no 劝返 items.
    teacher = home.work(home.desk(world.user("xz1_xx1_banzhuren"), days(4)))
    assert not [item for item in teacher if item.key.startswith("returns-")]
