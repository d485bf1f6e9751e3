"""A class teacher takes the roll on a phone three school days running (issue 5): the child
marked 旷课 each day carries a warning on the third, the third submission puts the child on
the ledger as 疑似辍学, and the principal finds the notification waiting."""

import os

import pytest

from accounts.models import Region, SchoolClass, User
from students.calendar import term_save
from tests.attendance.conftest import (
    AUTUMN,
    COUNTY,
    MON,
    PRINCIPAL,
    TEACHER,
    TUE,
    WED,
    open_to_teachers,
    pupil,
)
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def shot(page, name: str) -> None:
    """A full-page screenshot for looking at the pages, when KONGCHUO_SCREENSHOTS names a
    folder."""
    folder = os.environ.get("KONGCHUO_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"attendance-{name}.png"), full_page=True)


@pytest.fixture
def live_class(live_world):
    """County A in its autumn term, past days open to the class teacher, and the teacher's
    class with three pupils."""
    county = Region.objects.get(code=COUNTY)
    admin = User.objects.get(role="county_admin", region=county)
    term_save(by=admin, owner=county, name="2026-2027学年第一学期", start=AUTUMN[0], end=AUTUMN[1])
    open_to_teachers()
    klass = SchoolClass.objects.get(head_teacher__username=TEACHER)
    return klass, [pupil(live_world, klass) for _ in range(3)]


def test_three_days_of_unexcused_absence_reach_the_principal(phone, live_world, live_class):
    klass, pupils = live_class
    child = pupils[1]
    login(phone, TEACHER, live_world.password)
    phone.goto(f"/attendance/?date={MON.isoformat()}")
    shot(phone, "teacher-overview")

    for number, day in enumerate((MON, TUE, WED), start=1):
        phone.goto(f"/attendance/{klass.pk}/{day.isoformat()}/")
        row = phone.get_by_test_id("roll-row").filter(has_text=child.name)
        warning = row.get_by_test_id("run-warning")
        if number == 3:
            assert warning.inner_text() == "已连续旷课2天"
        else:
            assert warning.count() == 0
        assert row.get_by_role("radio", name="出勤").is_checked()
        row.get_by_role("radio", name="旷课").tap()  # the whole segment is the tap target
        assert row.get_by_role("radio", name="旷课").is_checked()
        if number == 3:
            shot(phone, "roll-before-third-submit")
        phone.get_by_role("button", name="提交考勤").tap()
        phone.wait_for_load_state()
        assert "已提交考勤：出勤2人，缺勤/请假1人" in phone.locator(".messages").inner_text()
        # Back on the day's roll, the saved mark is checked.
        assert row.get_by_role("radio", name="旷课").is_checked()

    flagged = phone.locator(".messages").get_by_role("link", name=child.name)
    assert f"{child.name}已连续旷课3天，已登记为疑似辍学并通知校长" in (
        phone.locator(".messages").inner_text()
    )
    assert flagged.get_attribute("href").startswith("/ledger/")
    shot(phone, "roll-after-third-submit")

    phone.context.clear_cookies()
    login(phone, PRINCIPAL, live_world.password)
    assert int(phone.get_by_test_id("unread-count").inner_text()) >= 1
    phone.goto("/notifications/")
    notice = phone.get_by_test_id("notification").filter(has_text="疑似辍学")
    assert notice.count() == 1
    assert child.name in notice.inner_text()
    shot(phone, "principal-notifications")

    phone.goto(f"/attendance/?date={WED.isoformat()}")
    absences = phone.get_by_test_id("absences")
    assert child.name in absences.inner_text() and "旷课" in absences.inner_text()
    shot(phone, "principal-overview")
