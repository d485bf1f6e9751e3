"""REST API foundations (issue 2 §9): tokens, errors as JSON, pagination, filters, schema."""

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Region, School, SchoolClass

pytestmark = pytest.mark.django_db


def token_for(world, username="api_xian"):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": world.password}
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def api(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_token_is_issued_for_username_and_password_and_inherits_jurisdiction(world):
    client = api(token_for(world))
    codes = {
        row["township_code"][:6]
        for row in client.get("/api/v1/schools/", {"page_size": 500}).json()["results"]
    }
    assert codes == {"532926"}
    assert AuditEvent.objects.filter(action="token_issued", actor__username="api_xian").count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "api_xian", "password": "wrong"},
        {"username": "nobody", "password": "wrong"},
    ],
)
def test_bad_credentials_get_a_json_error_with_field_names(world, payload):
    response = APIClient().post("/api/v1/auth/token/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["non_field_errors"] == ["用户名或密码错误，或账号已停用。"]


def test_missing_fields_are_named(world):
    body = APIClient().post("/api/v1/auth/token/", {}, format="json").json()
    assert set(body["errors"]) == {"username", "password"}
    assert body["errors"]["username"] == ["该字段是必填项。"]


@pytest.mark.parametrize(
    "header", ["Token", "Token abc def", "Token not-a-real-token", "Bearer xyz"]
)
def test_malformed_or_unknown_token_is_refused_in_chinese(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/schools/")
    assert response.status_code in (401, 403)
    detail = response.json()["detail"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in detail), detail


def test_logout_revokes_the_token(world):
    token = token_for(world)
    client = api(token)
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/schools/").status_code == 401


def test_cursor_pagination_with_a_capped_page_size(world):
    client = api(token_for(world, "sheng_dudao"))
    first = client.get("/api/v1/classes/", {"page_size": 5}).json()
    assert len(first["results"]) == 5 and first["next"] and "cursor=" in first["next"]
    second = client.get(first["next"]).json()
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})


def test_page_size_is_capped(world, monkeypatch):
    """A page never holds more than the cap, whatever the client asks for: the cap is
    lowered here below the number of classes the test world has, so the test can fail."""
    from kongchuo.pagination import IdCursorPagination

    monkeypatch.setattr(IdCursorPagination, "max_page_size", 3)
    client = api(token_for(world, "sheng_dudao"))
    assert SchoolClass.objects.count() > 3
    capped = client.get("/api/v1/classes/", {"page_size": 100000}).json()
    assert len(capped["results"]) == 3 and capped["next"]


def test_filters(world):
    client = api(token_for(world))
    township = Region.objects.get(code="532926101")
    schools = client.get("/api/v1/schools/", {"township": township.pk}).json()["results"]
    assert {s["township"] for s in schools} == {township.pk}
    grade7 = client.get("/api/v1/classes/", {"grade": 7}).json()["results"]
    assert grade7 and {c["grade"] for c in grade7} == {7}
    villages = client.get("/api/v1/regions/", {"level": 5}).json()["results"]
    assert villages and all(len(r["code"]) == 12 for r in villages)
    assert client.get("/api/v1/classes/", {"grade": "x"}).status_code == 400


def test_filtering_by_an_out_of_area_id_leaks_nothing(world):
    client = api(token_for(world))
    foreign = School.objects.filter(township__code__startswith="530102").first()
    response = client.get("/api/v1/classes/", {"school": foreign.pk})
    assert response.status_code == 200 and response.json()["results"] == []
    assert SchoolClass.objects.filter(school=foreign).exists()
    # The same filter on a school of the caller's county lists its classes.
    own = School.objects.filter(township__code__startswith="532926").first()
    listed = client.get("/api/v1/classes/", {"school": own.pk}).json()["results"]
    assert {row["id"] for row in listed} == set(
        SchoolClass.objects.filter(school=own).values_list("pk", flat=True)
    )


def test_schema_and_docs_need_a_login(world):
    assert APIClient().get("/api/v1/schema/").status_code in (401, 403)
    client = api(token_for(world))
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/schools/" in schema.content
    docs = world.client("xian_admin").get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    assert b"cdn" not in docs.content.lower()
