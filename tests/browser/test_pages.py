"""Pages as a person sees them: login, each role's home, 404 out of area, Chinese glyphs."""

import pytest

from accounts.models import School
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


def rendered_fonts(page, selector):
    """The platform fonts Chromium actually used to draw ``selector``'s text."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def test_login_with_a_wrong_password_then_the_right_one(page, live_world):
    login(page, "xian_admin", "wrong-password")
    assert page.get_by_role("alert").inner_text().startswith("请输入一个正确的")
    login(page, "xian_admin", live_world.password)
    assert page.locator("h1").inner_text() == "云南省大理白族自治州南涧彝族自治县"
    assert page.get_by_test_id("me").inner_text().endswith("（县级管理员）")


@pytest.mark.parametrize(
    ("username", "heading", "schools"),
    [
        ("xz1_ganbu", "云南省大理白族自治州南涧彝族自治县南涧镇", "4"),
        ("xz1_xx1_xiaozhang", "南涧镇中心学校", "3"),
        ("xz1_xx1_banzhuren", "南涧镇中心学校", "1"),
    ],
)
def test_each_role_lands_on_the_home_page_of_its_area(page, live_world, username, heading, schools):
    login(page, username, live_world.password)
    assert page.locator("h1").inner_text() == heading
    assert page.get_by_test_id("stat-schools").inner_text() == schools
    assert page.get_by_role("link", name="账号").count() == 0


def test_out_of_area_school_gives_404_page(page, live_world):
    foreign = School.objects.filter(township__code__startswith="530102").first()
    login(page, "xian_admin", live_world.password)
    response = page.goto(f"/org/schools/{foreign.pk}/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "未找到该页面或记录"
    assert foreign.name not in page.content()


def test_chinese_text_is_drawn_with_a_cjk_font_not_boxes(page, live_world):
    login(page, "xian_admin", live_world.password)
    fonts = rendered_fonts(page, "h1")
    assert fonts, "no font information for the heading"
    families = {font["familyName"] for font in fonts}
    assert any("WenQuanYi" in family or "CJK" in family for family in families), families
    assert sum(font["glyphCount"] for font in fonts) == len(page.locator("h1").inner_text())


def test_phone_sized_viewport_keeps_the_page_usable(browser, live_server, live_world, tmp_path):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 375, "height": 740}, is_mobile=True
    )
    page = context.new_page()
    login(page, "xz1_xx1_banzhuren", live_world.password)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.get_by_role("link", name="南涧镇中心学校 一年级1班").is_visible()
    # Kept under pytest's tmp_path for a look after a failure.
    page.screenshot(path=str(tmp_path / "home-phone.png"))
    context.close()


def test_form_errors_are_chinese_even_for_an_english_browser(page, live_world):
    login(page, "xian_admin", live_world.password)
    page.goto("/accounts/new/")
    page.get_by_role("button", name="保存").click()
    errors = page.locator(".field .error").all_inner_texts()
    assert errors and set(errors) == {"该字段是必填项。"}


def test_the_pages_scripts_run_under_the_content_security_policy(page, live_world):
    """Issue 15 §5: nothing the pages do is blocked by the policy (no inline script), and
    the list filter that submits on change still does so through static/js/page.js."""
    blocked = []
    page.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security" in msg.text else 0
    )
    login(page, "xian_admin", live_world.password)
    for path in (
        "/",
        "/students/",
        "/ledger/",
        "/returns/",
        "/comparisons/sources/",
        "/api/v1/docs/",
    ):
        page.goto(path)
    page.wait_for_selector("#swagger-ui .information-container")
    page.goto("/comparisons/sources/")
    with page.expect_navigation():
        page.get_by_label("名单类型").select_option(index=1)
    assert "kind=" in page.url
    assert blocked == []
