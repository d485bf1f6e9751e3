"""The teacher's path (issue 11, item 3): after submitting, the roll page says what happened —
for a child the submission put on the ledger, "某某已连续旷课 N 天，已登记为疑似辍学并通知校长"
with N the run's length and exactly who the rule's notification reached — and the button then
reads 修改考勤. And the overview a 中心校 chases gaps with holds its attached schools' classes
(issue 11: they were hidden even with 全部学校 selected)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Role
from accounts.models import Notification, School, SchoolClass, User
from attendance.choices import Mark
from ledger.models import LedgerEntry
from tests.attendance.conftest import (
    MON,
    PRINCIPAL,
    TEACHER,
    THU,
    TUE,
    WED,
    absent,
    open_to_teachers,
    pupil,
    take,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_window(terms):
    return open_to_teachers()


def url(klass, day) -> str:
    return f"/attendance/{klass.pk}/{day.isoformat()}/"


def body(pupils, marks=None) -> dict:
    marks = marks or {}
    return {
        **{f"mark_{s.pk}": marks.get(s, Mark.PRESENT) for s in pupils},
        **{f"note_{s.pk}": "" for s in pupils},
    }


def submit(world, klass, day, pupils, marks) -> str:
    response = world.client(TEACHER).post(url(klass, day), body(pupils, marks), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def messages_of(page: str) -> str:
    """The text of the page's messages, tags stripped."""
    block = re.search(r'<ul class="messages">(.*?)</ul>', page, re.S)
    return re.sub(r"<[^>]+>", "", block[1]) if block else ""


def button(page: str) -> str:
    return re.search(r'data-testid="roll-submit">([^<]+)</button>', page)[1]


# -- the message --------------------------------------------------------------------------------


def test_a_submission_that_opens_an_entry_names_the_child_the_run_and_who_was_told(
    world, klass, pupils, open_window
):
    child = pupils[0]
    absent(world, klass, [MON, TUE], child)
    page = submit(world, klass, WED, pupils, {child: Mark.UNEXCUSED})
    entry = LedgerEntry.objects.get(student=child)
    text = messages_of(page)
    assert "已提交考勤：出勤3人，缺勤/请假1人" in text
    assert (
        f"{child.name}已连续旷课3天，已登记为疑似辍学并通知校长和乡镇干部。请尽快核实并开展劝返。"
        in text
    )
    assert f'<a href="/ledger/{entry.pk}/">{child.name}</a>已连续旷课3天' in page
    # The message says what the rule did: the principal and the township officials got it.
    told = set(
        Notification.objects.filter(link=f"/ledger/{entry.pk}/").values_list(
            "recipient__role", flat=True
        )
    )
    assert told == {Role.PRINCIPAL, Role.TOWNSHIP_OFFICIAL}


def test_n_is_the_length_of_the_whole_run_not_the_threshold(world, klass, pupils, open_window):
    """A late roll that fills a gap completes a run of four: the message says 4 days."""
    child = pupils[0]
    rules = open_window
    rules.threshold = 5
    rules.save()
    absent(world, klass, [MON, TUE, THU], child)  # WED not recorded: a gap, not a break
    assert not LedgerEntry.objects.filter(student=child).exists()
    rules.threshold = 3
    rules.save()
    text = messages_of(submit(world, klass, WED, pupils, {child: Mark.UNEXCUSED}))
    assert f"{child.name}已连续旷课4天，已登记为疑似辍学并通知校长" in text
    assert LedgerEntry.objects.get(student=child).found_on == WED


@pytest.mark.parametrize(
    ("inactive", "said"),
    [
        ({Role.TOWNSHIP_OFFICIAL}, "已登记为疑似辍学并通知校长。"),
        (
            {Role.TOWNSHIP_OFFICIAL, Role.PRINCIPAL},
            "已登记为疑似辍学，但学校和乡镇暂无接收通知的账号，请直接告知校长。",
        ),
    ],
)
def test_the_message_names_only_those_the_notification_reached(
    world, klass, pupils, open_window, inactive, said
):
    """Without active township official accounts the principal alone was told, and so the
    message says; with nobody to tell, it says so and asks the teacher to tell the principal."""
    child = pupils[0]
    absent(world, klass, [MON, TUE], child)
    User.objects.filter(role__in=inactive).update(is_active=False)
    text = messages_of(submit(world, klass, WED, pupils, {child: Mark.UNEXCUSED}))
    assert f"{child.name}已连续旷课3天，{said}" in text
    assert LedgerEntry.objects.filter(student=child).exists()


def test_a_submission_that_opens_no_entry_says_only_the_counts(world, klass, pupils, open_window):
    text = messages_of(submit(world, klass, MON, pupils, {pupils[0]: Mark.UNEXCUSED}))
    assert text.strip() == "已提交考勤：出勤3人，缺勤/请假1人。"


# -- the button ---------------------------------------------------------------------------------


def test_the_button_reads_submit_before_the_roll_and_change_after(
    world, klass, pupils, open_window
):
    client = world.client(TEACHER)
    assert button(client.get(url(klass, MON)).content.decode()) == "提交考勤"
    after = submit(world, klass, MON, pupils, {})
    assert button(after) == "修改考勤"
    assert button(client.get(url(klass, TUE)).content.decode()) == "提交考勤"


# -- the 中心校 overview -------------------------------------------------------------------------


@pytest.fixture
def attached(world, klass):
    """A class of a school attached to the 中心校, with a pupil (so it owes a roll)."""
    school = School.objects.filter(parent=klass.school).order_by("code").first()
    other = SchoolClass.objects.filter(school=school).order_by("grade", "name").first()
    other.pupil = pupil(world, other)
    return other


@pytest.mark.parametrize("chosen", [None, ""])
def test_a_central_school_sees_its_attached_schools_missing_classes(
    world, klass, pupils, attached, chosen
):
    """No school chosen, or 全部学校 (an empty choice): the 中心校 and its attached schools."""
    params = {"date": MON.isoformat()} | ({} if chosen is None else {"school": chosen})
    response = world.client(PRINCIPAL).get("/attendance/", params)
    context = response.context
    assert context["school"] == klass.school
    assert klass in context["missing"] and attached in context["missing"]
    page = response.content.decode()
    assert attached.school.name in page and url(attached, MON) in page
    assert 'data-testid="group-schools"' in page


def test_choosing_one_attached_school_narrows_the_overview_to_it(world, klass, pupils, attached):
    response = world.client(PRINCIPAL).get(
        "/attendance/", {"date": MON.isoformat(), "school": attached.school.code}
    )
    assert response.context["school"] == attached.school
    assert response.context["missing"] == [attached]
    assert url(klass, MON) not in response.content.decode()


def test_a_central_school_sees_attached_schools_absences(world, klass, pupils, attached):
    child = attached.pupil
    take(world, attached, MON, {child: Mark.SICK})
    response = world.client(PRINCIPAL).get("/attendance/", {"date": MON.isoformat()})
    assert [(m.student, m.status) for m in response.context["absences"]] == [(child, Mark.SICK)]
    assert attached not in response.context["missing"]


def test_central_school_overview_queries_do_not_grow_with_attached_classes(
    world, klass, pupils, attached
):
    client = world.client(PRINCIPAL)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/attendance/", {"date": MON.isoformat()}).status_code == 200
        return len(captured)

    few = queries()
    for other in SchoolClass.objects.filter(school__parent=klass.school).exclude(pk=attached.pk):
        pupil(world, other)
    many = queries()
    assert many == few
