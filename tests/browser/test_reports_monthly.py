"""A principal opens this month's 月报表, writes a 控辍保学措施, signs it and sees it signed
(issue 14), on a 390 px phone (the rows are cards, nothing scrolls sideways) and a desktop."""

import pytest

from ledger.choices import State
from reports.models import ReportVersion
from tests.browser.conftest import login
from tests.browser.test_phone_lists import no_sideways_scroll
from tests.ledger.conftest import entry_in, make_student

PRINCIPAL = "xz1_xx1_xiaozhang"


@pytest.mark.parametrize("screen", ["phone", "page"])
def test_a_principal_fills_a_measure_signs_the_report_and_sees_it_signed(
    request, live_world, screen
):
    entry_in(live_world, State.CONFIRMED, make_student(live_world, name="张小一"))
    page = request.getfixturevalue(screen)
    login(page, PRINCIPAL, live_world.password)
    page.goto("/reports/monthly/")
    page.get_by_test_id("open-button").click()
    page.wait_for_load_state()
    assert "已按台账生成月报表" in page.content()
    row = page.get_by_test_id("row")
    assert row.count() == 1 and "张小一" in row.inner_text()
    page.get_by_label("填表人").fill("王老师")
    row.get_by_role("textbox").fill("5月3日上门家访，家长同意返校")
    if screen == "phone":
        no_sideways_scroll(page)
    page.get_by_test_id("save").click()
    page.wait_for_load_state()
    assert "已保存" in page.content()
    page.get_by_test_id("sign").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("signed").is_visible()
    principal = live_world.user(PRINCIPAL)
    signer = page.get_by_test_id("signed-by").inner_text()
    assert signer == (principal.full_name or principal.username)
    assert "5月3日上门家访" in page.get_by_test_id("measures").inner_text()
    if screen == "phone":
        no_sideways_scroll(page)
    version = ReportVersion.objects.get()
    assert version.signed_by.username == PRINCIPAL and version.filled_by == "王老师"
    assert version.rows.get().measures == "5月3日上门家访，家长同意返校"
