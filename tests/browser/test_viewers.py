"""Who viewed a child (issue 15 §4) in Chromium on a 390 px phone: the county staff open the
child's page, then the principal finds them under 谁查看过该学生, as a card, with nothing
scrolling sideways."""

import pytest

from tests.browser.test_phone_lists import PHONE, no_sideways_scroll, open_as
from tests.ledger.conftest import head_class, make_student

pytestmark = [pytest.mark.browser]

PRINCIPAL, COUNTY_STAFF = "xz1_xx1_xiaozhang", "xian_staff"


def test_the_principal_sees_who_viewed_the_child(browser, live_server, live_world):
    child = make_student(live_world, grade=1, klass=head_class(live_world))
    path = f"/students/{child.pk}/"
    staff = open_as(browser, live_server, PHONE, COUNTY_STAFF, live_world.password)
    staff.goto(path)
    assert staff.get_by_test_id("viewers-panel").is_visible()  # the county sees it too
    staff.context.close()

    page = open_as(browser, live_server, PHONE, PRINCIPAL, live_world.password)
    page.goto(path)
    panel = page.get_by_test_id("viewers-panel")
    assert "谁查看过该学生" in panel.inner_text()
    rows = panel.locator("tbody tr")
    assert rows.count() == 2
    newest, older = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert live_world.user(PRINCIPAL).full_name in newest and "校长" in newest
    assert live_world.user(COUNTY_STAFF).full_name in older
    assert "县教体局工作人员" in older and f"页面 {path}" in older
    # No audit page for a principal: no link to it either.
    assert page.get_by_test_id("viewers-all").count() == 0
    no_sideways_scroll(page)
    page.context.close()
