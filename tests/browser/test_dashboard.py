"""The county dashboard in the browser (issue 14, "done when"): its charts are drawn by
static/js/dashboard.js with the vendored ECharts — non-empty canvases — on a phone (390 px,
nothing scrolls sideways, the tables stay inside their box) and on a desktop."""

import os

import pytest

from tests.browser.conftest import login
from tests.reports.test_indicators import build_figures

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

CHARTS = ("by_month", "by_reason", "by_key_group", "by_grade", "by_area", "ranking")


def shot(page, name: str) -> None:
    """A full-page screenshot, when KONGCHUO_SCREENSHOTS names a folder."""
    folder = os.environ.get("KONGCHUO_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"dashboard-{name}.png"), full_page=True)


def _drawn(page) -> None:
    page.goto("/reports/dashboard/")
    page.wait_for_selector(".chart[data-drawn='1'] canvas")
    for name in CHARTS:
        box = page.locator(f".chart[data-chart='{name}']")
        assert box.get_attribute("data-drawn") == "1", name
        # A canvas with something painted on it: not every pixel is transparent.
        painted = box.locator("canvas").first.evaluate(
            """canvas => {
                const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
                return false;
            }"""
        )
        assert painted, name
        width = box.evaluate("el => el.getBoundingClientRect().width")
        assert width <= page.viewport_size["width"], name
    assert "18.75%" in page.locator("[data-testid='rate-dropout_rate']").inner_text()


def test_county_dashboard_draws_its_charts_on_a_phone(live_world, phone):
    build_figures()
    login(phone, "xian_staff", live_world.password)
    _drawn(phone)
    shot(phone, "phone")
    assert phone.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_county_dashboard_draws_its_charts_on_a_desktop(live_world, page):
    build_figures()
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, "xian_staff", live_world.password)
    _drawn(page)
    shot(page, "desktop")
    assert page.locator("[data-testid='table-ranking'] tbody tr").count() == 2
