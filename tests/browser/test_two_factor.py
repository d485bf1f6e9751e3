"""Issue 15 §2 in Chromium: a county staff member whose role requires two-factor binds an
authenticator right after the password (QR code, recovery codes once), then logs in again with
password and code, on a 390 px phone; nothing is blocked by the CSP. The codes come from the
test's copy of the key, through django-otp's own TOTP."""

import time

import pytest
from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import login
from tests.browser.test_phone_lists import no_sideways_scroll

pytestmark = [pytest.mark.browser]


def code_of(device, steps_ahead=0):
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


@override_settings(TWO_FACTOR_REQUIRED_ROLES=frozenset({"county_staff"}))
def test_a_county_account_enrols_then_logs_in_with_a_code(phone, live_world):
    blocked = []
    phone.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security" in msg.text else 0
    )
    login(phone, "xian_staff", live_world.password)
    assert phone.url.endswith("/login/enrol/")
    heading = phone.get_by_role("heading", name="启用两步验证")
    heading.wait_for()
    assert heading.is_visible()
    assert phone.get_by_test_id("two-factor-qr").locator("svg").is_visible()
    no_sideways_scroll(phone)
    # Nothing else opens before the authenticator is bound.
    phone.goto("/students/")
    assert "/login/" in phone.url
    phone.goto("/login/enrol/")

    device = TOTPDevice.objects.get(user__username="xian_staff", confirmed=False)
    assert phone.get_by_test_id("two-factor-secret").inner_text() in device.config_url
    phone.get_by_label("验证码").fill(code_of(device))
    phone.get_by_role("button", name="确认绑定").click()
    codes = phone.get_by_test_id("recovery-codes").locator("li")
    assert codes.count() == 10
    no_sideways_scroll(phone)
    phone.get_by_role("link", name="我已保存，继续").click()
    phone.wait_for_load_state()
    assert phone.url.endswith("/")

    # Log out and in again: password, then the code.
    phone.context.clear_cookies()
    login(phone, "xian_staff", live_world.password)
    assert phone.url.endswith("/login/code/")
    phone.get_by_label("验证码").fill("000000")
    phone.get_by_role("button", name="验证并登录").click()
    refused = phone.get_by_text("验证码错误或已使用过")
    refused.wait_for()  # the answer page, not the page the click left
    assert refused.is_visible()
    device.refresh_from_db()
    device.throttle_reset()  # django-otp's delay after a wrong code
    phone.get_by_label("验证码").fill(code_of(device, steps_ahead=1))
    phone.get_by_role("button", name="验证并登录").click()
    phone.wait_for_load_state()
    assert phone.url.endswith("/")
    assert "/login/" not in phone.url
    assert blocked == []
