"""Each role's home page in Chromium, on a 390 px phone and at 1366×768 (issue 11, item 1):
the day's work as counts that link to their lists, touch-sized, nothing scrolling sideways;
the class teacher one tap from the roll; a province's counties side by side. One test per
viewport, one login per role (the browser suite runs near CI's time limit)."""

import re

import pytest
from django.utils import timezone

from accounts import home
from accounts.models import SchoolClass
from ledger.choices import State
from tests.browser.test_phone_lists import DESKTOP, PHONE, no_sideways_scroll, open_as
from tests.ledger.conftest import entry_in, make_student

pytestmark = [pytest.mark.browser]

TEACHER, PROVINCE = "xz1_xx1_banzhuren", "sheng_dudao"
ROLES = [TEACHER, "xz1_xx1_xiaozhang", "xz1_ganbu", "xian_staff", PROVINCE]


@pytest.fixture
def work(live_world):
    """Some of every kind of waiting work in county A."""
    klass = SchoolClass.objects.get(head_teacher=live_world.user("xz1_xx1_banzhuren"))
    entry_in(live_world, State.PENDING, make_student(live_world, grade=1, klass=klass))
    entry_in(live_world, State.PERSUADING, make_student(live_world, grade=1, klass=klass))
    entry_in(live_world, State.PROPOSED, make_student(live_world, grade=1, klass=klass))
    return live_world


def assert_home(page, world, username: str, viewport) -> None:
    """The role's to-do items, each with its count and label, a touch target, nothing
    scrolling sideways; on a phone each card fills the width."""
    expected = home.work(home.desk(world.user(username), timezone.localdate()))
    assert expected, f"{username} has no items"
    for item in expected:
        card = page.get_by_test_id(f"todo-{item.key}")
        assert card.is_visible(), item.key
        assert page.get_by_test_id(f"count-{item.key}").inner_text() == str(item.count)
        assert item.label in card.inner_text()
        box = card.locator(".todo-main").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (item.key, box)
    no_sideways_scroll(page)
    if viewport is PHONE:
        first = page.get_by_test_id(f"todo-{expected[0].key}").bounding_box()
        assert first["width"] >= 390 - 48, "a to-do card fills the phone's width"


def assert_counties_side_by_side(page) -> None:
    """The province's home page: a row per county; a county's count opens its list."""
    row = page.get_by_test_id("county-532926")
    assert row.is_visible() and "南涧彝族自治县" in row.inner_text()
    assert page.get_by_test_id("county-530102").is_visible()
    no_sideways_scroll(page)
    row.get_by_role("link").filter(has_text=re.compile(r"^1$")).first.click()
    page.wait_for_load_state()
    assert "county=532926" in page.url and "/ledger/" in page.url
    # The list names the county it is filtered by in its folded 筛选 panel.
    summary = page.locator("details.filter-panel summary")
    assert "南涧彝族自治县" in summary.inner_text() and "已选" in summary.inner_text()


def assert_roll_in_one_tap(page, world) -> None:
    klass = SchoolClass.objects.get(head_teacher=world.user(TEACHER))
    link = page.get_by_test_id(f"roll-link-{klass.pk}")
    assert link.bounding_box()["height"] >= 44
    link.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/attendance/{klass.pk}/{timezone.localdate().isoformat()}/")
    assert klass.name in page.locator("h1").inner_text()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_each_role_sees_its_days_work_with_counts_that_link(browser, live_server, work, viewport):
    """Each role after logging in, one page each; then the province opens a county's list
    and, on a phone, the class teacher reaches the roll in one tap."""
    for username in ROLES:
        page = open_as(browser, live_server, viewport, username, work.password)
        try:
            assert_home(page, work, username, viewport)
            if username == PROVINCE:
                assert_counties_side_by_side(page)
            if username == TEACHER and viewport is PHONE:
                assert_roll_in_one_tap(page, work)
        except AssertionError as error:
            raise AssertionError(f"{username}: {error}") from error
        finally:
            page.context.close()
