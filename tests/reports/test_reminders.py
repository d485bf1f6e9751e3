"""The reporting calendar's reminders (issue 14 rule 5, DOMAIN.md §9): each beat job run twice
on a fixed date sends each reminder once; before a deadline to the person responsible, after
it to their supervisor."""

import datetime

import pytest

from accounts.choices import NotificationKind
from accounts.models import Notification, Region
from reports import cadence, reminders, tasks
from reports.choices import Period
from reports.models import ReportCadence
from students.calendar import default_terms

pytestmark = pytest.mark.django_db


def _reminded(title_part: str) -> dict[str, int]:
    rows = Notification.objects.filter(
        kind=NotificationKind.REPORT_REMINDER, title__contains=title_part
    )
    counts = {}
    for username in rows.values_list("recipient__username", flat=True):
        counts[username] = counts.get(username, 0) + 1
    return counts


def _twice(rule, today: datetime.date) -> int:
    first = rule(today)
    assert rule(today) == 0  # the job ran again the same day: nothing more
    return first


def test_monthly_report_five_days_before_the_20th_reminds_school_staff_and_principal(world):
    assert reminders.monthly(datetime.date(2026, 3, 14)) == 0
    assert _twice(reminders.monthly, datetime.date(2026, 3, 15)) > 0
    reminded = _reminded("2026年3月辍学月报表请于03月20日前签发")
    assert reminded["xz1_xx1_xiaozhang"] >= 1 and reminded["xz1_xx1_guanli"] >= 1
    assert "xian_staff" not in reminded
    assert reminders.monthly(datetime.date(2026, 3, 18)) == 0  # the same deadline: once


def test_monthly_report_on_the_20th_lists_the_missing_schools_to_the_county(world):
    assert _twice(reminders.monthly, datetime.date(2026, 3, 20)) == 2  # each county's staff
    assert _reminded("逾期未签发") == {"xian_staff": 1, "c2_xian_staff": 1}
    body = Notification.objects.get(recipient__username="xian_staff").body
    assert "仍未签发的学校：" in body and "中心" in body


def test_bimonthly_province_is_reminded_in_report_months_only(world):
    ReportCadence.objects.create(
        province=Region.objects.get(code="530000"),
        bimonthly=True,
        changed_by=world.user("sheng_dudao"),
    )
    assert reminders.monthly(datetime.date(2026, 3, 15)) == 0
    assert reminders.monthly(datetime.date(2026, 3, 20)) == 0
    assert _twice(reminders.monthly, datetime.date(2026, 4, 15)) > 0
    assert _reminded("2026年3—4月辍学月报表")


def test_sign_off_due_reminds_the_level_in_its_last_month(world):
    assert _twice(reminders.sign_offs, datetime.date(2026, 3, 1)) > 0
    reminded = _reminded("2026年第1季度审核请于03月31日前签发")
    assert reminded == {"xian_staff": 1, "xian_admin": 1, "c2_xian_staff": 1, "c2_xian_admin": 1}
    cadence.sign(
        by=world.user("xian_staff"),
        which=cadence.SignPeriod(Period.QUARTER, 2026, 1),
        summary="审核通过",
        today=datetime.date(2026, 3, 2),
    )
    Notification.objects.all().delete()
    reminders.sign_offs(datetime.date(2026, 3, 2))
    assert set(_reminded("第1季度审核请于")) == {"c2_xian_staff", "c2_xian_admin"}


def test_sign_off_after_its_period_reminds_the_level_above(world):
    assert _twice(reminders.sign_offs, datetime.date(2026, 4, 2)) > 0
    late = _reminded("2026年第1季度审核逾期未签发")
    assert late == {"shi_dudao": 1}  # county A's city (county B's has no account)
    assert _reminded("2025—2026学年第一学期审核逾期未签发") == {"sheng_dudao": 2}  # two cities
    assert _reminded("2025年度审核逾期未签发") == {"sheng_dudao": 1}  # none above: itself


def test_enrolment_calendar_april_may_june_to_august(world):
    assert reminders.enrolment_calendar(datetime.date(2026, 3, 31)) == 0
    _twice(reminders.enrolment_calendar, datetime.date(2026, 4, 1))
    survey = _reminded("4月：适龄儿童少年入学情况排查")
    assert survey["xz1_ganbu"] == 1 and survey["xian_staff"] == 1
    assert reminders.enrolment_calendar(datetime.date(2026, 4, 20)) == 0  # once a year
    _twice(reminders.enrolment_calendar, datetime.date(2026, 5, 6))
    assert set(_reminded("5月：制定招生入学")) == {"xian_staff", "c2_xian_staff"}
    _twice(reminders.enrolment_calendar, datetime.date(2026, 6, 1))
    assert _reminded("发放义务教育入学、复学通知书")["xz1_ganbu"] == 1
    assert reminders.enrolment_calendar(datetime.date(2026, 8, 1)) == 0  # one notice season


def test_term_start_first_week_and_classification_month(world):
    for county in Region.objects.filter(code__in=("532926", "530102")):
        default_terms(county, 2026)
    _twice(reminders.term_start, datetime.date(2026, 9, 1))
    assert _reminded("开学第一周请核查未报到学生")["xz1_xx1_xiaozhang"] == 1
    assert reminders.term_start(datetime.date(2026, 9, 3)) == 0  # the same week: once


def test_term_start_unclassified_entries_remind_the_school_then_the_county(world):
    from tests.jurisdiction_cases import _pending_entry

    entry = _pending_entry("532926")
    type(entry).objects.filter(pk=entry.pk).update(reviewed_on=datetime.date(2026, 6, 1))
    default_terms(Region.objects.get(code="532926"), 2026)
    _twice(reminders.term_start, datetime.date(2026, 9, 25))  # the month's last week
    assert _reminded("条台账待学期分类复核")
    _twice(reminders.term_start, datetime.date(2026, 10, 2))  # after the month
    assert _reminded("条台账逾期未分类复核") == {"xian_staff": 1}


def test_the_beat_job_runs_every_rule_once(world, monkeypatch):
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["report-reminders"]["task"] == "reports.tasks.reminders"
    day = datetime.date(2026, 4, 15)
    monkeypatch.setattr(reminders.timezone, "localdate", lambda: day)
    assert tasks.reminders() > 0
    assert tasks.reminders() == 0
    assert _reminded("2026年4月辍学月报表") and _reminded("4月：适龄儿童")
