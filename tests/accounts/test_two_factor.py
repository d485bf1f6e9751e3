"""Two-factor login (issue 15 §2): TOTP plus recovery codes, required for county
administrators and staff, optional for the others; the API token endpoint asks for the code
too; enrolment and removal are audited."""

import importlib
import re
import time

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import two_factor
from accounts.models import AuditEvent, RecoveryCode
from kongchuo.errors import AppError

pytestmark = pytest.mark.django_db

REQUIRED = override_settings(TWO_FACTOR_REQUIRED_ROLES=frozenset({"county_admin", "county_staff"}))


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    cache.clear()
    yield
    cache.clear()


def code_of(device, steps_ahead=0):
    """The authenticator's code now (or ``steps_ahead`` 30-second steps later, still inside
    the device's tolerance of one step), as a phone would show it."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrol(user):
    device = two_factor.pending_device(user)
    return device, two_factor.confirm(user, code_of(device))


def password(client, world, username):
    return client.post("/login/", {"username": username, "password": world.password})


def logged_in_as(client):
    return client.get("/").wsgi_request.user.username


# -- enrolment ----------------------------------------------------------------------------


@REQUIRED
def test_a_required_account_is_sent_to_enrolment_and_can_do_nothing_else(world):
    client = Client()
    answer = password(client, world, "xian_staff")
    assert answer.status_code == 302 and answer["Location"] == "/login/enrol/"
    # Not logged in: every other page sends it back to the login page.
    assert client.get("/students/").status_code == 302
    assert logged_in_as(client) == ""

    page = client.get("/login/enrol/").content.decode()
    assert "<svg" in page and "必须使用两步验证" in page
    # No inline script (the CSP forbids it): only scripts loaded from static files.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    device = two_factor.pending_device(world.user("xian_staff"))
    assert two_factor.secret(device) in page

    wrong = client.post("/login/enrol/", {"code": "000000"}).content.decode()
    assert "验证码不正确" in wrong and logged_in_as(client) == ""

    done = client.post("/login/enrol/", {"code": code_of(device)})
    shown = done.content.decode()
    codes = done.context["codes"]
    assert len(codes) == 10 and all(code in shown for code in codes)
    assert "只显示这一次" in shown
    assert logged_in_as(client) == "xian_staff"
    assert AuditEvent.objects.filter(action="2fa_enrolled", actor__username="xian_staff").exists()


def test_an_optional_account_logs_in_with_the_password_and_may_enrol(world):
    client = Client()
    assert password(client, world, "xz1_xx1_banzhuren")["Location"] == "/"
    assert "启用两步验证" in client.get("/account/security/").content.decode()
    page = client.get("/account/two-factor/enrol/")
    assert "<svg" in page.content.decode()
    device = two_factor.pending_device(world.user("xz1_xx1_banzhuren"))
    done = client.post("/account/two-factor/enrol/", {"code": code_of(device)})
    assert len(done.context["codes"]) == 10
    assert two_factor.is_enrolled(world.user("xz1_xx1_banzhuren"))


# -- logging in with a code ---------------------------------------------------------------


def test_an_enrolled_account_needs_the_code_after_the_password(world):
    device, _ = enrol(world.user("xian_admin"))
    client = Client()
    assert password(client, world, "xian_admin")["Location"] == "/login/code/"
    assert logged_in_as(client) == ""

    wrong = client.post("/login/code/", {"code": "123456"})
    assert two_factor.WRONG_CODE in wrong.content.decode() and logged_in_as(client) == ""
    failed = AuditEvent.objects.get(action="login_failed", actor_name="xian_admin")
    assert "两步验证码错误" in failed.detail

    # django-otp slows a device down after a wrong code (1 s, doubling): a person waits.
    device.refresh_from_db()
    device.throttle_reset()
    code = code_of(device, steps_ahead=1)
    assert client.post("/login/code/", {"code": code})["Location"] == "/"
    assert logged_in_as(client) == "xian_admin"
    assert AuditEvent.objects.filter(action="login", actor__username="xian_admin").exists()

    # The same code again, in another login: refused (a code is used once).
    again = Client()
    password(again, world, "xian_admin")
    reused = again.post("/login/code/", {"code": code})
    assert two_factor.WRONG_CODE in reused.content.decode() and logged_in_as(again) == ""


def test_a_recovery_code_works_once(world):
    _, codes = enrol(world.user("xian_admin"))
    first = Client()
    password(first, world, "xian_admin")
    assert first.post("/login/code/", {"code": codes[0].upper()})["Location"] == "/"
    second = Client()
    password(second, world, "xian_admin")
    assert two_factor.WRONG_CODE in second.post("/login/code/", {"code": codes[0]}).content.decode()


def test_the_code_page_without_a_fresh_password_starts_again(world):
    enrol(world.user("xian_admin"))
    assert Client().get("/login/code/")["Location"] == "/login/"
    client = Client()
    password(client, world, "xian_admin")
    with override_settings(TWO_FACTOR_PENDING_SECONDS=-1):
        answer = client.post("/login/code/", {"code": "123456"}, follow=True)
    assert "登录已超时" in answer.content.decode()


def test_wrong_passwords_of_a_two_factor_account_still_lock_it(world):
    enrol(world.user("xian_admin"))
    for n in range(5):
        Client().post(
            "/login/", {"username": "xian_admin", "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{n}"
        )
    assert password(Client(), world, "xian_admin").status_code == 429


# -- removal ------------------------------------------------------------------------------


def test_the_user_removes_two_factor_with_a_code(world):
    user = world.user("xz1_xx1_banzhuren")
    device, _ = enrol(user)
    client = world.client("xz1_xx1_banzhuren")
    wrong = client.post("/account/two-factor/remove/", {"code": "000000"}, follow=True)
    assert two_factor.WRONG_CODE in wrong.content.decode() and two_factor.is_enrolled(user)
    device.refresh_from_db()
    device.throttle_reset()  # the delay after a wrong code
    done = client.post("/account/two-factor/remove/", {"code": code_of(device, 1)}, follow=True)
    assert "两步验证已停用" in done.content.decode()
    assert not two_factor.is_enrolled(user)
    assert AuditEvent.objects.filter(action="2fa_removed", actor=user).exists()


@REQUIRED
def test_a_required_role_cannot_remove_it_itself(world):
    user = world.user("xian_staff")
    device, _ = enrol(user)
    client = world.client("xian_staff")
    answer = client.post("/account/two-factor/remove/", {"code": code_of(device, 1)}, follow=True)
    assert "不能停用" in answer.content.decode() and two_factor.is_enrolled(user)


def test_a_county_admin_resets_two_factor_of_an_account_they_manage(world):
    staff = world.user("xz1_xx1_banzhuren")
    enrol(staff)
    outsider = world.client("c2_xian_admin")
    assert outsider.post(f"/accounts/{staff.pk}/two-factor/reset/").status_code == 404
    assert (
        world.client("xz1_xx1_xiaozhang")
        .post(f"/accounts/{staff.pk}/two-factor/reset/")
        .status_code
        == 403
    )
    assert two_factor.is_enrolled(staff)
    answer = world.client("xian_admin").post(f"/accounts/{staff.pk}/two-factor/reset/", follow=True)
    assert "已重置 xz1_xx1_banzhuren 的两步验证" in answer.content.decode()
    assert not two_factor.is_enrolled(staff)
    event = AuditEvent.objects.get(action="2fa_removed", object_id=str(staff.pk))
    assert event.actor.username == "xian_admin" and event.detail == "管理员重置两步验证"


def test_an_admin_cannot_reset_their_own_two_factor(world):
    """Not a way around removal's rules (a code; roles that must keep it)."""
    admin = world.user("xian_admin")
    enrol(admin)
    with pytest.raises(AppError, match="不能重置自己的两步验证"):
        two_factor.reset(by=admin, user=admin)
    assert two_factor.is_enrolled(admin)


# -- the API token endpoint ---------------------------------------------------------------


def _ask(world, username, **extra):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": world.password, **extra},
        format="json",
    )


def test_the_token_endpoint_of_a_two_factor_account_needs_the_code(world):
    device, _ = enrol(world.user("xian_admin"))
    missing = _ask(world, "xian_admin")
    assert missing.status_code == 400
    assert missing.json()["errors"]["otp"] == [
        "该账号已启用两步验证，请填写验证器上的 6 位数字或一个恢复码。"
    ]
    wrong = _ask(world, "xian_admin", otp="000000")
    assert wrong.status_code == 401 and wrong.json()["detail"] == two_factor.WRONG_CODE
    assert "token" not in wrong.json()
    device.refresh_from_db()
    device.throttle_reset()  # the delay after a wrong code
    good = _ask(world, "xian_admin", otp=code_of(device, 1))
    assert good.status_code == 200 and good.json()["token"]


@REQUIRED
def test_a_required_account_not_enrolled_gets_no_token(world):
    refused = _ask(world, "xian_staff")
    assert refused.status_code == 403 and "启用两步验证" in refused.json()["detail"]
    # Other roles are not concerned.
    assert _ask(world, "api_xian").status_code == 200


def test_the_step_after_the_password_is_one_rule_for_page_and_api(world, settings):
    """two_factor.next_step: the code of an enrolled account, the enrolment of one whose role
    requires it, else nothing — the login page and the token endpoint both ask it."""
    settings.TWO_FACTOR_REQUIRED_ROLES = frozenset({"county_admin"})
    teacher, admin = world.user("xz1_xx1_banzhuren"), world.user("xian_admin")
    assert two_factor.next_step(teacher) is None
    assert two_factor.next_step(admin) == two_factor.ENROL
    enrol(teacher)
    assert two_factor.next_step(teacher) == two_factor.CODE


# -- recovery codes are stored as digests ----------------------------------------------------


def test_recovery_codes_are_stored_only_as_salted_digests_and_shown_once(world):
    """Issue 15 §2: a copy of the database gives no recovery code. Each row holds a salted
    SHA-256 digest (two equal codes would not share one), nothing of the code itself."""
    user = world.user("xian_admin")
    _, codes = enrol(user)
    assert len(codes) == two_factor.RECOVERY_CODES == len(set(codes))
    assert all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}", code) for code in codes)
    stored = list(RecoveryCode.objects.filter(user=user).values_list("digest", flat=True))
    assert len(stored) == len(codes)
    for code in codes:
        plain = code.replace("-", "")
        assert all(plain not in digest and code not in digest for digest in stored)
    salt, _, value = stored[0].partition("$")
    assert len(salt) == 16 and len(value) == 64
    assert two_factor.recovery_digest(codes[0], "s") != two_factor.recovery_digest(codes[0], "t")
    assert not StaticToken.objects.exists()
    # Enrolling anew replaces the codes: the old ones stop working.
    TOTPDevice.objects.filter(user=user).delete()
    _, fresh = enrol(user)
    assert not two_factor.verify(user, codes[1]) and two_factor.verify(user, fresh[1])


def test_a_recovery_code_is_accepted_once_and_a_reused_one_fails(world):
    user, other = world.user("xian_admin"), world.user("xz1_xx1_banzhuren")
    _, codes = enrol(user)
    _, others = enrol(other)
    assert two_factor.verify(user, f"  {codes[2].upper()} ")
    assert not two_factor.verify(user, codes[2])  # used up
    assert not two_factor.verify(user, others[0])  # another account's code
    assert RecoveryCode.objects.filter(user=user).count() == two_factor.RECOVERY_CODES - 1
    assert two_factor.verify(user, codes[3].replace("-", ""))  # typed without the dashes


def test_the_migration_hashes_the_codes_stored_in_plain_text(world):
    """Codes made before the digests (django-otp StaticTokens, the code itself in the row)
    become digests, keep working once each, and leave no plain copy behind."""
    user = world.user("xian_admin")
    enrol(user)
    RecoveryCode.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=t) for t in ("abcd2345", "wxyz7654")]
    )
    migration = importlib.import_module("accounts.migrations.0019_hash_recovery_codes")
    migration.hash_codes(apps, None)
    assert not StaticToken.objects.exists() and not StaticDevice.objects.exists()
    stored = list(RecoveryCode.objects.filter(user=user).values_list("digest", flat=True))
    assert len(stored) == 2 and not any("abcd2345" in digest for digest in stored)
    assert two_factor.verify(user, "ABCD2345")
    assert not two_factor.verify(user, "abcd2345")
