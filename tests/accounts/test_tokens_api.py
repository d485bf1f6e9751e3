"""API tokens per client, hashed at rest (issue 15 §1): a new token at every login, only a
digest stored, expiry, read-only scope, last use, logout and revocation one by one."""

import datetime
import hashlib

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services, tokens
from accounts.api.authentication import READ_ONLY
from accounts.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    cache.clear()
    yield
    cache.clear()


def _issue(world, username="api_xian", **extra):
    response = APIClient().post(
        TOKEN, {"username": username, "password": world.password, **extra}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _api(secret, address="10.3.3.3"):
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_only_a_digest_of_each_token_is_stored(world):
    body = _issue(world, name="学籍同步")
    secret = body["token"]
    row = ApiToken.objects.get(pk=body["id"])
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert row.name == "学籍同步" and row.prefix == secret[:8]
    # The secret is nowhere in the table, in any column.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert secret not in stored
    assert _api(secret).get("/api/v1/schools/").status_code == 200


def test_each_login_issues_a_new_token_and_logout_ends_only_that_one(world):
    first, second = _issue(world, name="学籍同步"), _issue(world, name="资助系统")
    assert first["token"] != second["token"]
    assert _api(first["token"]).post("/api/v1/auth/logout/").status_code == 204
    after = _api(first["token"]).get("/api/v1/schools/")
    assert after.status_code == 401
    assert after.json()["detail"] == "令牌已被吊销，请重新申请令牌。"
    # The other client of the same account keeps working.
    assert _api(second["token"]).get("/api/v1/schools/").status_code == 200
    revoked = AuditEvent.objects.filter(
        action="token_revoked", object_id=str(world.user("api_xian").pk)
    )
    assert revoked.count() == 1 and "学籍同步" in revoked.get().detail
    issued = AuditEvent.objects.filter(action="token_issued", actor__username="api_xian")
    assert issued.count() == 2


def test_an_expired_token_gets_401_saying_so(world):
    body = _issue(world, expires_in_days=1)
    ApiToken.objects.filter(pk=body["id"]).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = _api(body["token"]).get("/api/v1/schools/")
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌已过期，请重新申请令牌。"


def test_expiry_is_the_default_or_the_days_asked_for_within_the_limit(world):
    default = ApiToken.objects.get(pk=_issue(world)["id"])
    assert (default.expires_at - default.created_at).days == 90
    short = ApiToken.objects.get(pk=_issue(world, expires_in_days=7)["id"])
    assert (short.expires_at - short.created_at).days == 7
    too_long = APIClient().post(
        TOKEN,
        {"username": "api_xian", "password": world.password, "expires_in_days": 366},
        format="json",
    )
    assert too_long.status_code == 400
    assert "expires_in_days" in too_long.json()["errors"]


def test_a_read_only_token_reads_but_every_write_is_403_in_chinese(world):
    body = _issue(world, "xian_admin", read_only=True)
    client = _api(body["token"])
    assert client.get("/api/v1/notifications/").status_code == 200
    refused = client.post("/api/v1/notifications/read-all/")
    assert refused.status_code == 403
    assert refused.json()["detail"] == READ_ONLY
    # It may still end itself.
    assert client.post("/api/v1/auth/logout/").status_code == 204


def test_last_use_time_and_address_are_kept(world):
    body = _issue(world)
    before = timezone.now()
    _api(body["token"], address="10.7.7.7").get("/api/v1/schools/")
    row = ApiToken.objects.get(pk=body["id"])
    assert row.last_used_ip == "10.7.7.7" and row.last_used_at >= before
    _api(body["token"], address="10.8.8.8").get("/api/v1/schools/")
    assert ApiToken.objects.get(pk=body["id"]).last_used_ip == "10.8.8.8"


def test_the_api_lists_and_revokes_the_callers_tokens_one_by_one(world):
    sync, other = _issue(world, name="学籍同步"), _issue(world, name="资助系统")
    client = _api(sync["token"])
    listed = client.get("/api/v1/auth/tokens/").json()
    assert {(t["name"], t["current"]) for t in listed} == {("学籍同步", True), ("资助系统", False)}
    assert all("token" not in t and "digest" not in t for t in listed)
    assert client.post("/api/v1/auth/tokens/revoke/", {"id": other["id"]}).status_code == 204
    assert _api(other["token"]).get("/api/v1/schools/").status_code == 401
    assert [t["name"] for t in client.get("/api/v1/auth/tokens/").json()] == ["学籍同步"]


def test_another_accounts_token_cannot_be_revoked_through_the_api(world):
    theirs = _issue(world, "xian_staff")
    mine = _issue(world)
    response = _api(mine["token"]).post("/api/v1/auth/tokens/revoke/", {"id": theirs["id"]})
    assert response.status_code == 400
    assert response.json()["errors"]["token"] == [f"令牌“{theirs['id']}”不存在或已失效。"]
    assert _api(theirs["token"]).get("/api/v1/schools/").status_code == 200


def test_deactivating_an_account_revokes_all_its_tokens(world):
    body = _issue(world, "xz1_xx1_banzhuren")
    services.account_set_active(
        by=world.user("xian_admin"), user=world.user("xz1_xx1_banzhuren"), active=False
    )
    assert not tokens.live(world.user("xz1_xx1_banzhuren")).exists()
    assert _api(body["token"]).get("/api/v1/schools/").status_code == 401


def test_the_account_page_lists_and_revokes_its_own_tokens(world):
    body = _issue(world, "xian_staff", name="学籍同步")
    client = world.client("xian_staff")
    page = client.get("/account/security/").content.decode()
    assert "学籍同步" in page and body["token"][:8] in page and body["token"] not in page
    answer = client.post("/account/tokens/revoke/", {"token": body["id"]}, follow=True)
    assert "令牌“学籍同步”已吊销" in answer.content.decode()
    assert _api(body["token"]).get("/api/v1/schools/").status_code == 401


def test_a_county_admin_revokes_a_token_of_an_account_they_manage(world):
    body = _issue(world, "xz1_xx1_banzhuren", name="班级同步")
    teacher = world.user("xz1_xx1_banzhuren")
    admin = world.client("xian_admin")
    assert "班级同步" in admin.get(f"/accounts/{teacher.pk}/security/").content.decode()
    admin.post(f"/accounts/{teacher.pk}/tokens/revoke/", {"token": body["id"]})
    assert _api(body["token"]).get("/api/v1/schools/").status_code == 401
    event = AuditEvent.objects.get(action="token_revoked", object_id=str(teacher.pk))
    assert event.actor.username == "xian_admin" and "管理员" in event.detail
    # Another county's administrator: 404, the token untouched.
    other = _issue(world, "xz1_xx1_banzhuren", name="另一个")
    outsider = world.client("c2_xian_admin")
    assert outsider.get(f"/accounts/{teacher.pk}/security/").status_code == 404
    outsider.post(f"/accounts/{teacher.pk}/tokens/revoke/", {"token": other["id"]})
    assert _api(other["token"]).get("/api/v1/schools/").status_code == 200


def test_a_school_account_cannot_use_the_admin_page(world):
    teacher = world.user("xz1_xx1_banzhuren")
    assert (
        world.client("xz1_xx1_guanli").get(f"/accounts/{teacher.pk}/security/").status_code == 403
    )


def test_earlier_plain_tokens_are_hashed_and_their_table_dropped(world):
    """Migration 0016: an authtoken key still works, now as a hashed token; the plain
    table is gone."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0016_api_tokens")
    user = world.user("api_xian")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz,"
            " user_id bigint)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", ["a" * 40, user.pk])
    with connection.schema_editor() as editor:
        migration.hash_legacy_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    legacy = ApiToken.objects.get(user=user, name="原有令牌")
    assert legacy.digest == hashlib.sha256(b"a" * 40).hexdigest()
    assert _api("a" * 40).get("/api/v1/schools/").status_code == 200


def test_an_unknown_token_is_told_to_ask_for_a_new_one(world):
    response = _api("not-a-token").get("/api/v1/schools/")
    assert response.status_code == 401
    assert response.json()["detail"] == (
        "令牌无效：请用用户名和密码重新申请令牌（POST /api/v1/auth/token/）。"
    )


def test_the_token_pages_run_the_same_queries_for_one_token_or_many(world):
    from django.test.utils import CaptureQueriesContext

    teacher = world.user("xz1_xx1_banzhuren")
    admin = world.client("xian_admin")
    own = world.client("xz1_xx1_banzhuren")

    def queries():
        counts = []
        for client, url in (
            (admin, f"/accounts/{teacher.pk}/security/"),
            (own, "/account/security/"),
        ):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return counts

    tokens.issue(user=teacher, name="一", by=world.user("xian_admin"))
    few = queries()
    for n in range(5):
        tokens.issue(user=teacher, name=f"多{n}")
    assert queries() == few
