"""Errors people can read (issue 11 §6): outside DEBUG, every error page a person can meet —
400, 403, a failed CSRF check, 404, 405, 500 — is in Chinese, in the site's layout, with a
way home, and shows none of Django's English pages. Each comes from a real request."""

import json

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Job, School

pytestmark = pytest.mark.django_db

# What Django's own pages say, in DEBUG or not.
DJANGO_ENGLISH = (
    "Not Found",
    "Forbidden",
    "Bad Request",
    "Server Error",
    "CSRF verification failed",
    "Method Not Allowed",
    "Request aborted",
    "Django",
    "Traceback",
    "DEBUG = True",
)
HOME_LINK = 'href="/">返回首页</a>'
LAYOUT = ('class="topbar"', 'class="brand"', "app.css", 'data-testid="error-page"')


def _page(response, status: int, *texts: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for text in (*texts, HOME_LINK, *LAYOUT):
        assert text in page, text
    for english in DJANGO_ENGLISH:
        assert english not in page, english
    return page


def test_the_suite_runs_without_debug():
    assert settings.DEBUG is False


def test_missing_page_is_a_chinese_404_in_the_layout(world):
    page = _page(world.client("xian_staff").get("/no-such-page/"), 404, "未找到该页面或记录")
    assert 'data-testid="me"' in page, "the navigation of a logged-in user"
    _page(Client().get("/no-such-page/"), 404, "未找到该页面或记录")


def test_a_record_out_of_the_users_area_is_the_same_404_page(world):
    foreign = School.objects.filter(township__code__startswith="530102").first()
    response = world.client("xz1_xx1_guanli").get(f"/org/schools/{foreign.pk}/")
    _page(response, 404, "不在您的管辖范围内")


def test_forbidden_page_tells_why_in_chinese(world):
    response = world.client("xz1_xx1_guanli").get("/ledger/consistency/")
    _page(response, 403, "无权操作", "人账相符检查由县教体局查看。", "县级管理员")


def test_csrf_failure_is_a_chinese_page_saying_nothing_was_done(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("xian_staff"))
    response = client.post("/ledger/consistency/", HTTP_REFERER="http://testserver/ledger/")
    page = _page(response, 403, "页面已过期", "刷新页面", "没有保存任何内容", "数据都还在")
    assert 'href="http://testserver/ledger/">返回上一页</a>' in page
    assert not Job.objects.exists(), "the refused POST started nothing"


def test_csrf_failure_of_the_login_form_and_a_foreign_referer(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/login/",
        {"username": "xian_staff", "password": "x"},
        HTTP_REFERER="https://evil.example/login/",
    )
    page = _page(response, 403, "页面已过期")
    assert "evil.example" not in page and "返回上一页</a>" not in page


def test_csrf_failure_on_the_api_is_json(db):
    from kongchuo.views import csrf_failure

    request = Client().get("/").wsgi_request
    request.path_info = "/api/v1/students/"
    response = csrf_failure(request, reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert json.loads(response.content) == {"detail": "安全校验未通过，请刷新页面后重试。"}


def test_bad_request_is_a_chinese_400(db):
    # An unknown Host header: Django refuses it before any view.
    response = Client(HTTP_HOST="evil.example").get("/login/")
    _page(response, 400, "请求无效", "没有执行任何操作")


@pytest.mark.parametrize("path", ["/logout/", "/jobs/", "/notifications/read/"])
def test_a_post_only_address_opened_in_the_browser_is_a_chinese_405(world, path):
    response = world.client("xian_staff").get(path)
    _page(response, 405, "无法直接打开该地址", "没有执行任何操作")
    assert "POST" in response["Allow"]


def test_an_api_405_stays_json(world):
    response = world.token_client("xian_staff").delete("/api/v1/schools/1/")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.urls("tests.kongchuo.urls")
def test_a_view_that_raises_is_a_chinese_500_without_the_database(db):
    client = Client(raise_request_exception=False)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/test-boom/")
    _page(response, 500, "服务器内部错误", "错误已记录")
    assert len(queries) == 0
