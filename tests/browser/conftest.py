"""Playwright driving Debian's Chromium (no browser download) against the live server."""

import os

import pytest

from accounts.demo import DemoSize, build
from tests.conftest import CHROMIUM, World

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page actions are ordinary blocking calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"未找到 Chromium（{CHROMIUM}）")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def live_world(transactional_db):
    build(DemoSize(counties=2, townships=2, villages=2, schools=4), seed=7)
    return World()


@pytest.fixture
def page(browser, live_server):
    # An English browser on purpose: the UI must stay Chinese whatever the browser prefers.
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized touch screen, 390 px wide as the phones the staff use."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def login(page, username, password):
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def choose(page, label: str, typed: str, code: str) -> None:
    """Search a lookup field (accounts.lookups) by typing ``typed`` and pick the suggestion
    whose code is ``code``, as a datalist choice does (the native popup cannot be driven
    headless: the choice sets the input to the option's value)."""
    field = page.get_by_label(label)
    field.press_sequentially(typed, delay=20)
    field_id = field.get_attribute("id")
    option = page.locator(f"#{field_id}-options option[value$=' · {code}']")
    option.wait_for(state="attached")
    field.fill(option.get_attribute("value"))
    assert field.input_value() == code
