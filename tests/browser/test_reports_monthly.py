"""A principal opens this month's 月报表, writes a 控辍保学措施, signs it and sees it signed
(issue 14), on a 390 px phone (the rows are cards, nothing scrolls sideways) and a desktop;
on the desktop they export the signed version as a job of theirs (issue 15 §6) and download it."""

import openpyxl
import pytest

from ledger.choices import State
from reports.models import ReportVersion
from tests.browser.conftest import login
from tests.browser.test_phone_lists import no_sideways_scroll
from tests.ledger.conftest import entry_in, make_student

PRINCIPAL = "xz1_xx1_xiaozhang"


@pytest.mark.parametrize("screen", ["phone", "page"])
def test_a_principal_fills_a_measure_signs_the_report_and_sees_it_signed(
    request, live_world, screen, settings, tmp_path
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
    if screen == "page":
        # Eager (tests/browser/test_roster_import.py): the export ran before the redirect.
        settings.CELERY_TASK_ALWAYS_EAGER = True
        page.get_by_test_id("download").get_by_role("button").click()
        page.wait_for_load_state()
        assert page.get_by_test_id("job-status").inner_text() == "已完成"
        with page.expect_download() as download:
            page.get_by_role("link", name="下载").click()
        path = tmp_path / "report.xlsx"
        download.value.save_as(path)
        cells = {
            cell
            for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True)
            for cell in row
        }
        assert {"张小一", "5月3日上门家访，家长同意返校"} <= cells
