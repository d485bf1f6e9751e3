"""Issue 13 rule 4 in the browser: a school's staff merge a likely duplicate on a phone."""

import pytest

from tests.browser.conftest import login
from tests.browser.test_phone_lists import no_sideways_scroll
from tests.students.test_duplicates import SCHOOL_USER, make


@pytest.mark.browser
def test_rule_4_a_phone_merges_a_pair_from_the_duplicates_page(live_world, phone):
    """390 px: the pair stacks (nothing scrolls sideways), 合并 leads to the confirmation,
    and the kept record's page says what moved."""
    one = make(live_world, "李小明")
    make(live_world, "李 小明", with_id=False)
    login(phone, SCHOOL_USER, live_world.password)
    phone.goto("/students/duplicates/")
    no_sideways_scroll(phone)
    sides = phone.get_by_test_id("duplicate-side")
    first, second = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
    assert second["y"] >= first["y"] + first["height"]  # one above the other
    phone.get_by_role("link", name="合并").click()
    no_sideways_scroll(phone)
    phone.get_by_label("合并原因").fill("重复建档，已核实")
    phone.get_by_role("button", name="确认合并").click()
    phone.wait_for_load_state()
    assert phone.url.endswith(f"/students/{one.pk}/")
    assert "合并到本记录" in phone.locator(".messages").inner_text()
