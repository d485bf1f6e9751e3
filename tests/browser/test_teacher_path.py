"""The teacher's path on a phone (issue 11, item 3): from the home page to today's roll in
one tap, a child who already has two unexcused days marked 旷课, submitted — and the page
says "某某已连续旷课3天，已登记为疑似辍学并通知校长", the button now reads 修改考勤, and the
child's name leads to the new entry, which shows the three days that opened it."""

import datetime
import os

import pytest
from django.utils import timezone

from accounts.models import Region, SchoolClass, User
from attendance import services
from attendance.choices import Mark
from students import calendar
from students.calendar import day_set, term_save
from students.models import DayKind
from tests.attendance.conftest import COUNTY, PRINCIPAL, TEACHER, open_to_teachers, pupil
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def shot(page, name: str) -> None:
    """A full-page screenshot for looking at the pages, when KONGCHUO_SCREENSHOTS names a
    folder."""
    folder = os.environ.get("KONGCHUO_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"teacher-path-{name}.png"), full_page=True)


@pytest.fixture
def today_in_term(live_world):
    """County A in a term around today, today a school day (a make-up day on a weekend),
    and the class teacher's window open."""
    today = timezone.localdate()
    county = Region.objects.get(code=COUNTY)
    admin = User.objects.get(role="county_admin", region=county)
    term_save(
        by=admin,
        owner=county,
        name="本学期",
        start=today - datetime.timedelta(days=60),
        end=today + datetime.timedelta(days=30),
    )
    if today.weekday() >= 5:
        day_set(by=admin, owner=county, date=today, kind=DayKind.WORKDAY, note="调休上班")
    open_to_teachers()
    return today


def test_a_class_teacher_flags_the_third_unexcused_day_from_the_home_page(
    phone, live_world, today_in_term
):
    klass = SchoolClass.objects.get(head_teacher__username=TEACHER)
    pupils = [pupil(live_world, klass) for _ in range(3)]
    child = pupils[1]
    cal = calendar.calendar_for(klass.school_id)
    earlier = cal.previous_school_days(today_in_term, 2)
    for day in earlier:  # two unexcused days already on the record
        services.submit(
            by=live_world.user(PRINCIPAL),
            klass=klass,
            day=day,
            marks=[services.MarkData(student=child.pk, status=Mark.UNEXCUSED)],
        )

    login(phone, TEACHER, live_world.password)
    phone.goto("/")
    shot(phone, "home")
    phone.get_by_test_id(f"roll-link-{klass.pk}").tap()  # one tap from the home page
    phone.wait_for_url(f"**/attendance/{klass.pk}/{today_in_term.isoformat()}/")
    assert "（今天）" in phone.get_by_test_id("roll-day").inner_text()

    row = phone.get_by_test_id("roll-row").filter(has_text=child.name)
    assert row.get_by_test_id("run-warning").inner_text() == "已连续旷课2天"
    submit = phone.get_by_test_id("roll-submit")
    assert submit.inner_text() == "提交考勤"
    row.get_by_role("radio", name="旷课").tap()
    submit.tap()
    phone.wait_for_load_state()

    said = phone.locator(".messages").inner_text()
    shot(phone, "roll-submitted")
    assert "已提交考勤：出勤2人，缺勤/请假1人" in said
    assert f"{child.name}已连续旷课3天，已登记为疑似辍学并通知校长" in said
    assert phone.get_by_test_id("roll-submit").inner_text() == "修改考勤"
    assert row.get_by_role("radio", name="旷课").is_checked()

    # The child's name leads to the entry, which shows the days that opened it.
    phone.locator(".messages").get_by_role("link", name=child.name).tap()
    phone.wait_for_url("**/ledger/*/")
    days = phone.get_by_test_id("run-day")
    assert days.count() == 3
    assert [days.nth(i).get_attribute("data-date") for i in range(3)] == [
        *(day.isoformat() for day in earlier),
        today_in_term.isoformat(),
    ]
    shot(phone, "entry")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The child's page: the open entry, the three 旷 at the end of the last school days,
    # and the guardians' phones for the class teacher to call, after an audited reveal.
    phone.get_by_role("link", name=f"{child.name}（在读）").tap()
    phone.wait_for_url(f"**/students/{child.pk}/")
    assert phone.get_by_test_id("open-entry").is_visible()
    assert phone.get_by_test_id("report").count() == 0
    marks = phone.get_by_test_id("day").evaluate_all("cells => cells.map(c => c.dataset.mark)")
    assert marks[-3:] == ["unexcused"] * 3
    shot(phone, "student")
    # Nothing scrolls sideways on the phone (STYLE rule 14).
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.get_by_test_id("reveal-contacts").tap()
    phone.wait_for_url(f"**/students/{child.pk}/contacts/")
    assert phone.get_by_test_id("phone").first.get_attribute("href") == "tel:13812345678"
    shot(phone, "contacts")
