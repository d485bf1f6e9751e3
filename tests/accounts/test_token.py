"""The token endpoint at its edges (issue 10 §8): a locked account hears until when, and the
rate limit is per account as well as per address."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts import lockout

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
WRONG = "用户名或密码错误，或账号已停用。"


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    # DRF keeps the throttles' history in the default cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def _rates(monkeypatch, *, account: str, address: str):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"auth": account, "auth_address": address}
    )


def _ask(username, password, address="10.1.1.1"):
    return APIClient().post(
        TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address
    )


# -- the lock ---------------------------------------------------------------------------------


def test_a_locked_account_gets_429_with_the_end_of_the_lock(world):
    before = timezone.now()
    answers = [_ask("xian_staff", "wrong-password", f"10.0.0.{n}") for n in range(5)]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429]
    assert answers[0].json()["errors"]["non_field_errors"] == [WRONG]

    # The right password, from yet another address: still locked, and told until when.
    locked = _ask("xian_staff", world.password, "10.9.9.9")
    after = timezone.now()
    assert locked.status_code == 429
    body = locked.json()
    until = datetime.datetime.fromisoformat(body["locked_until"])
    cool_off = datetime.timedelta(minutes=30)
    assert before + cool_off <= until <= after + cool_off
    assert "已被锁定" in body["detail"] and WRONG not in body["detail"]
    shown = timezone.localtime(until).replace(second=0, microsecond=0)
    if timezone.localtime(until) != shown:
        shown += datetime.timedelta(minutes=1)
    assert f"{shown:%Y-%m-%d %H:%M} 后可再次登录" in body["detail"]
    assert 1700 <= int(locked["Retry-After"]) <= 1800
    assert "token" not in body

    # Another account is not affected.
    assert _ask("xz1_xx1_guanli", world.password, "10.9.9.9").status_code == 200


def test_four_failures_still_get_the_wrong_password_answer_then_the_token(world):
    for n in range(4):
        answer = _ask("xian_staff", "wrong-password", f"10.0.0.{n}")
        assert answer.status_code == 400
        assert answer.json()["errors"]["non_field_errors"] == [WRONG]
    assert _ask("xian_staff", world.password).status_code == 200


def test_the_login_page_says_until_when_too(world):
    for n in range(5):
        Client().post(
            "/login/", {"username": "xian_admin", "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{n}"
        )
    page = Client().post("/login/", {"username": "xian_admin", "password": world.password})
    assert page.status_code == 429
    until = lockout.locked_until("xian_admin")
    assert until is not None
    assert lockout.message(until) in page.content.decode()
    assert "后可再次登录" in page.content.decode()


def _attempt(username, address, failures, minutes_ago):
    attempt = AccessAttempt.objects.create(
        username=username,
        ip_address=address,
        user_agent="test",
        http_accept="*/*",
        path_info=TOKEN,
        get_data="",
        post_data="",
        failures_since_start=failures,
    )
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=at)
    return at


def test_the_lock_ends_when_the_oldest_failures_leave_the_window(world):
    # 2 failures 20 minutes ago from one address, 3 failures 5 minutes ago from another: once
    # the older record leaves the 30-minute window, 3 remain, below the limit of 5.
    older = _attempt("xian_staff", "10.0.0.1", 2, minutes_ago=20)
    _attempt("xian_staff", "10.0.0.2", 3, minutes_ago=5)
    assert lockout.locked_until("xian_staff") == older + datetime.timedelta(minutes=30)


def test_failures_below_the_limit_or_outside_the_window_are_no_lock(world):
    _attempt("xian_staff", "10.0.0.1", 4, minutes_ago=1)
    _attempt("xz1_ganbu", "10.0.0.1", 5, minutes_ago=31)
    assert lockout.locked_until("xian_staff") is None
    assert lockout.locked_until("xz1_ganbu") is None
    assert lockout.locked_until("") is None
    assert "请稍后再试" in lockout.message(None)


# -- the rate limit ---------------------------------------------------------------------------


def test_accounts_behind_one_address_each_get_their_own_budget(world, monkeypatch):
    _rates(monkeypatch, account="3/min", address="100/min")
    for username in ("xian_staff", "xz1_xx1_guanli"):
        statuses = [_ask(username, world.password).status_code for _ in range(3)]
        assert statuses == [200, 200, 200], username
    # Each account's own budget is spent now.
    assert _ask("xian_staff", world.password).status_code == 429
    assert _ask("xz1_xx1_guanli", world.password).status_code == 429


def test_one_account_from_many_addresses_is_still_limited(world, monkeypatch):
    _rates(monkeypatch, account="3/min", address="100/min")
    statuses = [_ask("nobody", "wrong", f"10.2.0.{n}").status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    throttled = _ask("nobody", "wrong", "10.2.0.99")
    assert throttled.status_code == 429
    assert "请求" in throttled.json()["detail"]
    assert int(throttled["Retry-After"]) > 0


def test_one_address_cannot_spray_many_accounts(world, monkeypatch):
    _rates(monkeypatch, account="100/min", address="3/min")
    statuses = [_ask(f"nobody{n}", "wrong").status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    # Without a user name the address budget still counts.
    assert APIClient().post(TOKEN, {}, REMOTE_ADDR="10.1.1.1").status_code == 429
    assert _ask("nobody9", "wrong", "10.1.1.2").status_code == 400
