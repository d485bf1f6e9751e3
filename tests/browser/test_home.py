"""Each role's home page in Chromium, on a 390 px phone and at 1366×768 (issue 11, item 1):
the day's work as counts that link to their lists, touch-sized, nothing scrolling sideways;
the class teacher one tap from the roll; a province's counties side by side."""

import re

import pytest
from django.utils import timezone

from accounts import home
from accounts.models import SchoolClass
from ledger.choices import State
from tests.browser.conftest import login
from tests.ledger.conftest import entry_in, make_student

pytestmark = [pytest.mark.browser]

ROLES = ["xz1_xx1_banzhuren", "xz1_xx1_xiaozhang", "xz1_ganbu", "xian_staff", "sheng_dudao"]


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1366, "height": 768}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def work(live_world):
    """Some of every kind of waiting work in county A."""
    klass = SchoolClass.objects.get(head_teacher=live_world.user("xz1_xx1_banzhuren"))
    entry_in(live_world, State.PENDING, make_student(live_world, grade=1, klass=klass))
    entry_in(live_world, State.PERSUADING, make_student(live_world, grade=1, klass=klass))
    entry_in(live_world, State.PROPOSED, make_student(live_world, grade=1, klass=klass))
    return live_world


def _no_sideways_scroll(page):
    width, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width <= client, f"page scrolls sideways: {width} > {client}"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_its_days_work_with_counts_that_link(request, work, username, viewport):
    page = request.getfixturevalue(viewport)
    login(page, username, work.password)
    expected = home.work(home.desk(work.user(username), timezone.localdate()))
    assert expected, f"{username} has no items"
    for item in expected:
        card = page.get_by_test_id(f"todo-{item.key}")
        assert card.is_visible(), item.key
        assert page.get_by_test_id(f"count-{item.key}").inner_text() == str(item.count)
        assert item.label in card.inner_text()
        target = card.locator(".todo-main")
        box = target.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (item.key, box)
    _no_sideways_scroll(page)
    if viewport == "phone":
        first = page.get_by_test_id(f"todo-{expected[0].key}").bounding_box()
        assert first["width"] >= 390 - 48, "a to-do card fills the phone's width"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_province_sees_each_county_and_opens_a_countys_list(request, work, viewport):
    page = request.getfixturevalue(viewport)
    login(page, "sheng_dudao", work.password)
    row = page.get_by_test_id("county-532926")
    assert row.is_visible() and "南涧彝族自治县" in row.inner_text()
    assert page.get_by_test_id("county-530102").is_visible()
    _no_sideways_scroll(page)
    row.get_by_role("link").filter(has_text=re.compile(r"^1$")).first.click()
    page.wait_for_load_state()
    assert "county=532926" in page.url and "/ledger/" in page.url


def test_class_teacher_reaches_the_roll_in_one_tap(phone, work):
    klass = SchoolClass.objects.get(head_teacher=work.user("xz1_xx1_banzhuren"))
    login(phone, "xz1_xx1_banzhuren", work.password)
    link = phone.get_by_test_id(f"roll-link-{klass.pk}")
    box = link.bounding_box()
    assert box["height"] >= 44
    link.click()
    phone.wait_for_load_state()
    assert phone.url.endswith(f"/attendance/{klass.pk}/{timezone.localdate().isoformat()}/")
    assert klass.name in phone.locator("h1").inner_text()
