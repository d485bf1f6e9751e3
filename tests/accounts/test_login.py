"""Login security (issue 2 §7): lockout, sessions, CSRF, no-store, clear Chinese messages."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts import services

pytestmark = pytest.mark.django_db

INVALID = "请输入一个正确的"


@pytest.mark.parametrize("username", ["xian_admin", "no_such_user"])
def test_wrong_password_or_unknown_user_gets_the_same_chinese_message(world, client, username):
    response = client.post("/login/", {"username": username, "password": "wrong-password"})
    assert response.status_code == 200
    assert INVALID in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_disabled_account_cannot_log_in(world, client):
    services.account_set_active(
        by=world.user("xian_admin"), user=world.user("xz1_ganbu"), active=False
    )
    response = client.post("/login/", {"username": "xz1_ganbu", "password": world.password})
    assert INVALID in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_empty_login_form_names_the_missing_fields(world, client):
    page = client.post("/login/", {"username": "", "password": ""}).content.decode()
    assert page.count("该字段是必填项") == 2


def test_lockout_after_5_failures_counted_per_account_across_addresses(world):
    for attempt in range(5):
        Client().post(
            "/login/",
            {"username": "xian_admin", "password": "wrong"},
            REMOTE_ADDR=f"10.0.0.{attempt}",
        )
    locked = Client().post(
        "/login/", {"username": "xian_admin", "password": world.password}, REMOTE_ADDR="10.9.9.9"
    )
    assert locked.status_code == 429
    assert "已被锁定" in locked.content.decode()
    # Another account is not affected.
    other = Client()
    assert (
        other.post("/login/", {"username": "xian_staff", "password": world.password}).status_code
        == 302
    )


def test_four_failures_do_not_lock(world):
    for _ in range(4):
        Client().post("/login/", {"username": "xian_admin", "password": "wrong"})
    response = Client().post("/login/", {"username": "xian_admin", "password": world.password})
    assert response.status_code == 302


def test_login_gives_a_new_session_id(world, client):
    client.get("/login/")
    client.session.save()
    before = client.session.session_key
    client.post("/login/", {"username": "xian_admin", "password": world.password})
    assert client.session.session_key != before
    assert client.session.get_expiry_age() == 30 * 60


def test_session_expires_after_30_idle_minutes(world, client):
    assert settings.SESSION_COOKIE_AGE == 1800 and settings.SESSION_SAVE_EVERY_REQUEST
    client.post("/login/", {"username": "xian_admin", "password": world.password})
    assert client.get("/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_logout_ends_the_session_at_once(world, client):
    client.post("/login/", {"username": "xian_admin", "password": world.password})
    key = client.session.session_key
    client.post("/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/").status_code == 302


def test_forms_are_protected_by_csrf(world):
    client = Client(enforce_csrf_checks=True)
    assert (
        client.post("/login/", {"username": "xian_admin", "password": world.password}).status_code
        == 403
    )
    client.force_login(world.user("xian_admin"))
    assert client.post("/org/schools/new/", {}).status_code == 403


def test_pages_and_api_answers_are_not_stored_by_browsers(world):
    client = world.client("xian_admin")
    for url in ("/", "/org/schools/", "/api/v1/schools/", "/login/"):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_passwords_are_hashed_and_common_ones_refused(world):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = world.user("xian_admin")
    assert user.password.startswith(("pbkdf2_", "md5$", "argon2", "bcrypt"))
    assert world.password not in user.password
    with pytest.raises(ValidationError):
        validate_password("password1234")
