"""Every /api/v1/ answer is JSON, errors included, and a page's 500 is a page (issue 10 §6)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "未找到该记录。"}
SERVER_ERROR = {"detail": "服务器内部错误，已记录，请稍后重试。"}


def _json(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def test_an_unknown_api_path_is_a_json_404(world):
    client = world.token_client("xian_staff")
    for path in ("/api/v1/no-such-thing/", "/api/v1/students/1/no-such-action/", "/api/v2/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert _json(response) == NOT_FOUND


def test_a_404_inside_a_viewset_names_no_model(world):
    client = world.token_client("xian_staff")
    for path in (
        "/api/v1/students/987654321/",
        "/api/v1/ledger-entries/987654321/",
        "/api/v1/schools/987654321/",
        "/api/v1/students/987654321/events/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert _json(response) == NOT_FOUND


def test_an_out_of_area_record_gets_the_same_404(world):
    from accounts.models import School

    foreign = School.objects.filter(township__code__startswith="530102").first()
    response = world.token_client("xz1_xx1_guanli").get(f"/api/v1/schools/{foreign.pk}/")
    assert response.status_code == 404
    assert _json(response) == NOT_FOUND


def test_a_method_not_allowed_is_json(world):
    response = world.token_client("xian_staff").delete("/api/v1/schools/1/")
    assert response.status_code == 405
    assert "DELETE" in _json(response)["detail"]


@pytest.mark.urls("tests.kongchuo.urls")
def test_an_api_500_is_json_and_chinese(db):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test-boom/")
    assert response.status_code == 500
    assert _json(response) == SERVER_ERROR


@pytest.mark.urls("tests.kongchuo.urls")
def test_a_page_500_renders_without_the_database(db):
    client = Client(raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/test-boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "服务器内部错误" in page and "返回首页" in page and "app.css" in page
    assert len(queries) == 0


def test_a_request_django_refuses_before_any_view_is_a_json_400_on_the_api(db):
    # An unknown Host header: Django refuses it in middleware, before DRF is reached.
    client = Client(raise_request_exception=False, HTTP_HOST="evil.example")
    response = client.get("/api/v1/schools/")
    assert response.status_code == 400
    assert _json(response) == {"detail": "请求无效。"}
    assert client.get("/login/").status_code == 400
