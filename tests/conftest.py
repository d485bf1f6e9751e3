"""Shared test set-up: services, the demo world, logged-in clients.

Tests that need a real service (PostgreSQL, Redis, Chromium) skip with a reason when it is
missing — unless KONGCHUO_REQUIRE_SERVICES is set (CI), where a missing service fails them.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.test import Client

from accounts.demo import DEMO_PASSWORD, DemoSize, build
from accounts.models import User

REQUIRE_SERVICES = bool(os.environ.get("KONGCHUO_REQUIRE_SERVICES"))
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _redis_available() -> tuple[bool, str]:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False, "REDIS_URL 未设置：跳过需要 Redis 的测试"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return False, f"无法连接 Redis（{url}）：{exc}"
    return True, ""


def _service_status(marker: str) -> tuple[bool, str]:
    if marker == "postgres":
        engine = settings.DATABASES["default"]["ENGINE"]
        return (
            "postgresql" in engine,
            "数据库不是 PostgreSQL（设置 DATABASE_URL）：跳过 PostgreSQL 专属测试",
        )
    if marker == "redis":
        return _redis_available()
    if marker == "browser":
        found = os.path.exists(CHROMIUM) or shutil.which("chromium")
        return bool(found), f"未找到 Chromium（{CHROMIUM}）：跳过浏览器测试"
    raise ValueError(marker)


_status_cache: dict[str, tuple[bool, str]] = {}


@pytest.fixture(autouse=True)
def _require_services(request):
    for marker in ("postgres", "redis", "browser"):
        if request.node.get_closest_marker(marker) is None:
            continue
        if marker not in _status_cache:
            _status_cache[marker] = _service_status(marker)
        available, reason = _status_cache[marker]
        if not available:
            if REQUIRE_SERVICES:
                pytest.fail(f"CI 要求的服务不可用：{reason}")
            pytest.skip(reason)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache (the home page keeps a province's counts)."""
    from django.core.cache import cache

    cache.clear()


def pytest_sessionstart(session):
    if REQUIRE_SERVICES and "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        raise pytest.UsageError(
            "KONGCHUO_REQUIRE_SERVICES 已设置，但 DATABASE_URL 不是 PostgreSQL。"
        )


class World:
    """Two counties in different cities of one province, every role in each area.

    County A is the demo county 532926 (大理州); county B is 530102 五华区 (昆明市).
    Usernames are the demo ones; county B's carry the prefix ``c2_``.
    """

    password = DEMO_PASSWORD

    def user(self, username: str) -> User:
        return User.objects.select_related("region", "school__township").get(username=username)

    def client(self, username: str) -> Client:
        client = Client()
        client.force_login(self.user(username))
        return client

    def token_client(self, username: str):
        """An API client that logged in for a token, as a syncing system does."""
        from rest_framework.test import APIClient

        response = APIClient().post(
            "/api/v1/auth/token/", {"username": username, "password": self.password}
        )
        assert response.status_code == 200, response.content
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        return client


@pytest.fixture
def world(db):
    build(DemoSize(counties=2, townships=2, villages=2, schools=4), seed=7)
    return World()
