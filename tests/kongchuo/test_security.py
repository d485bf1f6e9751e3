"""Issue 15 §5, headers and limits: a Content-Security-Policy with no inline script, the
other security headers, rate limits per account and per address on login, look-ups and
exports, and the health endpoint for a load balancer."""

import datetime
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from django_ratelimit import core as ratelimit_core
from kombu import Connection

from accounts import health
from accounts.models import Heartbeat, School
from accounts.tasks import heartbeat
from kongchuo import celery as queues
from kongchuo.celery import app

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LIMITED = {"RATELIMIT_ENABLE": True}


@pytest.fixture
def counters(monkeypatch):
    """Empty counters, and django-ratelimit's clock stopped: its windows are fixed (staggered
    per key), so requests a few milliseconds apart could otherwise straddle a window's end."""
    stopped = time.time()
    monkeypatch.setattr(ratelimit_core, "time", SimpleNamespace(time=lambda: stopped))
    cache.clear()
    yield
    cache.clear()


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


def test_pages_carry_a_policy_without_inline_script(world):
    response = world.client("xian_admin").get("/")
    directives = _directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "geolocation=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]


def test_the_login_page_and_api_carry_the_headers_too(world):
    for response in (Client().get("/login/"), world.client("xian_admin").get("/api/v1/schools/")):
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_holds_script_the_policy_would_block():
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in TEMPLATES.rglob("*.html")
        for pattern, what in INLINE
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_api_docs_load_their_script_from_the_site(world):
    response = world.client("xian_admin").get("/api/v1/docs/")
    assert response.status_code == 200
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts and all("src=" in tag for tag in scripts)
    init = world.client("xian_admin").get("/api/v1/docs/?script=")
    assert init["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in init.content


@override_settings(**LIMITED, RATELIMIT_SEARCH_ACCOUNT="3/m")
def test_look_ups_are_limited_per_account(world, counters):
    client, other = world.client("xian_admin"), world.client("c2_xian_admin")
    answers = [client.get("/lookup/schools/?q=小学").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = client.get("/lookup/schools/?q=小学")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # Another account from the same address still searches.
    assert other.get("/lookup/schools/?q=小学").status_code == 200


@override_settings(**LIMITED, RATELIMIT_SEARCH_ADDRESS="3/m")
def test_look_ups_are_limited_per_address(world, counters):
    clients = [world.client("xian_admin"), world.client("c2_xian_admin")]
    answers = [clients[n % 2].get("/students/?q=张").status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]


@override_settings(**LIMITED, RATELIMIT_SEARCH_ACCOUNT="2/m")
def test_an_id_number_look_up_in_the_api_is_limited_with_a_json_answer(world, counters):
    client = world.token_client("xian_admin")
    for _ in range(2):
        assert client.get("/api/v1/students/?id_number=530102201501011234").status_code == 200
    refused = client.get("/api/v1/students/?id_number=530102201501011234")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("请求过于频繁，请稍后再试。")
    assert int(refused["Retry-After"]) > 0
    # Lists without a search are not counted.
    assert client.get("/api/v1/students/").status_code == 200


@override_settings(**LIMITED, RATELIMIT_EXPORT_ACCOUNT="2/10m")
def test_exports_are_limited_per_account(world, counters):
    client = world.client("xian_admin")
    # Each export starts a job (a POST answered with the job's page): each start counts.
    answers = [client.post("/ledger/export/").status_code for _ in range(3)]
    assert answers == [302, 302, 429]
    page = client.post("/returns/export/")
    assert page.status_code == 429
    assert "请求过于频繁" in page.content.decode()
    assert "秒后重试" in page.content.decode()


@override_settings(**LIMITED, RATELIMIT_EXPORT_ACCOUNT="1/10m")
def test_report_workbooks_and_dashboard_tables_count_as_exports(world, counters):
    client = world.client("xian_admin")
    assert client.post("/reports/dashboard/download/", {"table": "by_month"}).status_code != 429
    assert client.post("/reports/dashboard/download/", {"table": "by_month"}).status_code == 429
    api = world.token_client("xz1_xx1_xiaozhang")
    assert api.get("/api/v1/reports/monthly/1/xlsx/").status_code != 429
    assert api.get("/api/v1/reports/monthly/1/xlsx/").status_code == 429


@override_settings(**LIMITED, RATELIMIT_LOGIN_ADDRESS="2/10m")
def test_the_login_form_is_limited_per_address(world, counters):
    client = Client()
    answers = [
        client.post("/login/", {"username": "xian_admin", "password": "wrong"}).status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]
    # Opening the form is not counted.
    assert client.get("/login/").status_code == 200


@pytest.fixture
def eager(settings):
    # The heartbeat sends one through each queue: run inline, as each queue's worker would.
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_health_is_ok_with_a_fresh_heartbeat_and_says_nothing_else(db, eager):
    heartbeat.apply()
    assert sorted(Heartbeat.objects.values_list("queue", flat=True)) == sorted(health.queues())
    response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "worker": "ok"}


def test_health_fails_when_no_worker_beat_lately(db):
    for queue in health.queues():
        health.beat("celery@old", queue, at=timezone.now() - datetime.timedelta(minutes=10))
    response = Client().get("/health/")
    assert response.status_code == 503
    assert response.json()["worker"] == "failed"
    assert response.json()["status"] == "unavailable"


def test_health_fails_when_one_queue_has_no_worker(db):
    """Issue 19 §4: a worker per queue; the interactive one stopped leaves imports waiting
    for ever, which the health check tells although the other queues beat."""
    interactive = queues.queue_name(queues.INTERACTIVE)
    for queue in health.queues():
        if queue != interactive:
            health.beat("celery@host", queue)
    response = Client().get("/health/")
    assert response.status_code == 503 and response.json()["worker"] == "failed"
    health.beat("interactive@host", interactive)
    assert Client().get("/health/").status_code == 200


def test_health_fails_when_the_broker_is_away(db, monkeypatch, eager):
    heartbeat.apply()
    # A real connection to a port where no broker listens.
    monkeypatch.setattr(app, "connection_for_write", lambda: Connection("redis://127.0.0.1:1/0"))
    with override_settings(HEALTH_BROKER_TIMEOUT=0.5):
        response = Client().get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"] == "failed"
    assert response.json()["database"] == "ok"


def test_a_heartbeat_twice_keeps_one_row_per_worker_and_queue(db, eager):
    heartbeat.apply()
    heartbeat.apply()
    assert Heartbeat.objects.count() == len(health.queues())
    assert School.objects.count() == 0  # the heartbeat touches nothing else


@override_settings(**LIMITED, RATELIMIT_LOGIN_ADDRESS="1/10m")
def test_behind_the_proxy_the_limits_count_the_client_s_address(world, counters, settings):
    """With CLIENT_ADDRESS_HEADER set, two clients behind one proxy are two addresses, and a
    client's own X-Forwarded-For changes nothing."""
    from django.test import override_settings as again

    with again(CLIENT_ADDRESS_HEADER="HTTP_X_REAL_IP"):
        client = Client()
        wrong = {"username": "xian_admin", "password": "wrong"}
        first = client.post("/login/", wrong, HTTP_X_REAL_IP="10.1.1.1")
        assert first.status_code == 200
        assert client.post("/login/", wrong, HTTP_X_REAL_IP="10.2.2.2").status_code == 200
        spoofed = client.post(
            "/login/", wrong, HTTP_X_REAL_IP="10.1.1.1", HTTP_X_FORWARDED_FOR="10.9.9.9"
        )
        assert spoofed.status_code == 429
