"""One 劝返 case on a phone (issue 12, "done when"): the county opens the case from a
confirmed dropout and confirms the proposed township, the township official signs for it,
records two home visits (one with a photo), moves the case to 责令改正 with a deadline and
registers the return with a placement — each page saying what happened, and nothing
scrolling sideways at 390 px. The 责令改正 deadline has not passed: 登记复学 never waits
(returns.transitions.check_step)."""

import datetime
import io
import os

import pytest
from django.utils import timezone
from PIL import Image

from returns.models import ReturnCase
from tests.browser.conftest import login
from tests.ledger.conftest import head_class, make_student
from tests.returns.conftest import COUNTY_USER, OFFICIAL, confirmed

pytestmark = [pytest.mark.browser]


def shot(page, name: str) -> None:
    """A full-page screenshot, when KONGCHUO_SCREENSHOTS names a folder."""
    folder = os.environ.get("KONGCHUO_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"returns-{name}.png"), full_page=True)


def fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def said(page) -> str:
    return page.locator(".messages").inner_text()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG")
    return out.getvalue()


def tap_button(page, name: str) -> None:
    """Submit the form and wait for the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).tap()


def test_a_case_from_the_county_instruction_to_a_return_with_placement(phone, live_world):
    klass = head_class(live_world)
    child = make_student(live_world, grade=1, klass=klass)
    entry = confirmed(live_world, child)
    township = entry.township.name

    # The county opens the case from the entry page and confirms the proposal.
    login(phone, COUNTY_USER, live_world.password)
    phone.goto(f"/ledger/{entry.pk}/")
    phone.get_by_test_id("open-case").tap()
    phone.wait_for_url(f"**/ledger/{entry.pk}/return-case/")
    assert phone.get_by_test_id("proposed-township").inner_text() == township
    assert phone.get_by_test_id("proposed-rule").inner_text() == "户籍地乡镇"
    assert fits(phone)
    shot(phone, "open")
    tap_button(phone, "下达劝返指令")
    case = ReturnCase.objects.get(entry=entry)
    phone.wait_for_url(f"**/returns/{case.pk}/")
    assert f"已向{township}下达劝返指令" in said(phone)
    assert "须在2日内签收" in said(phone)
    assert phone.get_by_test_id("case-state").inner_text() == "待签收"
    assert fits(phone)

    # The township official signs for it.
    phone.context.clear_cookies()
    login(phone, OFFICIAL, live_world.password)
    phone.goto(f"/returns/{case.pk}/")
    phone.get_by_role("link", name="签收", exact=True).tap()
    assert "下达劝返指令（户籍地乡镇）" in phone.get_by_test_id("instruction").inner_text()
    tap_button(phone, "签收")
    assert "已签收劝返指令" in said(phone)
    assert phone.get_by_test_id("case-state").inner_text() == "劝返中"
    assert "宣传教育" in phone.get_by_test_id("current-step").inner_text()
    assert fits(phone)

    # Two visits: a home visit with a photo from the camera, then a call.
    phone.get_by_role("link", name="劝返记录", exact=True).tap()
    today = timezone.localdate()
    assert phone.get_by_label("劝返日期").input_value() == today.isoformat()
    assert phone.get_by_role("radio", name="上门").is_checked()
    phone.get_by_label("劝返情况及结果").fill("见到监护人，答应下周一送孩子返校")
    phone.get_by_label("照片或PDF").set_input_files(
        {"name": "家访.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
    )
    assert fits(phone)
    shot(phone, "visit-form")
    tap_button(phone, "保存劝返记录")
    assert "上门劝返，附件1个" in said(phone)
    assert phone.get_by_test_id("attachment").count() == 1

    phone.get_by_role("link", name="劝返记录", exact=True).tap()
    phone.get_by_role("radio", name="电话").tap()
    phone.get_by_label("劝返情况及结果").fill("电话提醒监护人按时送学")
    tap_button(phone, "保存劝返记录")
    assert "电话劝返" in said(phone)
    assert phone.get_by_test_id("visit").count() == 2
    assert fits(phone)

    # 责令改正 with a deadline.
    deadline = today + datetime.timedelta(days=10)
    phone.get_by_role("link", name="推进劝返步骤", exact=True).tap()
    phone.get_by_role("radio", name="责令改正").check()
    phone.get_by_label("责令改正截止日期").fill(deadline.isoformat())
    tap_button(phone, "推进")
    assert "已推进到“责令改正”" in said(phone)
    assert phone.get_by_test_id("deadline").inner_text() == deadline.isoformat()
    assert "责令改正" in phone.get_by_test_id("current-step").inner_text()
    assert fits(phone)

    # The child is back before the deadline: 登记复学 with the placement and the class.
    phone.get_by_role("link", name="登记复学", exact=True).tap()
    assert "建议原年级：一年级" in phone.get_by_test_id("suggestion").inner_text()
    phone.get_by_label("安置方式").select_option(label="随班就读")
    phone.get_by_label("复学班级").select_option(label=str(klass))
    assert fits(phone)
    shot(phone, "return-form")
    tap_button(phone, "登记复学")
    assert "已登记复学（随班就读" in said(phone)
    assert phone.get_by_test_id("case-state").inner_text() == "已复学（跟踪）"
    assert f"随班就读：{klass.school.name}一年级" in phone.get_by_test_id("placement").inner_text()
    timeline = phone.get_by_test_id("timeline").inner_text()
    for line in ("下达劝返指令", "签收", "劝返记录", "推进劝返步骤", "登记复学"):
        assert line in timeline
    assert fits(phone)
    shot(phone, "returned")
