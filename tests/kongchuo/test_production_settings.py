"""Production settings fail loudly (issue 10 §6): no PostgreSQL DATABASE_URL or no Redis
broker URL, no start. Each case loads the settings in a fresh interpreter, as gunicorn would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SERVICES = {
    "SECRET_KEY": "production-settings-test-key",
    "DATABASE_URL": "postgres://kongchuo@db.invalid:5432/kongchuo",
    "REDIS_URL": "redis://broker.invalid:6379/0",
    # URL-safe base64 of 32 bytes each (issue 15 §3; tests/kongchuo/test_sealed.py covers them).
    "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1zZXR0aW5ncy1maWVsZC1rZXktMDE=",
    "LOOKUP_HASH_KEY": "cHJvZHVjdGlvbi1zZXR0aW5ncy1sb29rdXAta2V5LTA=",
}
SHOW = (
    "import django; from django.conf import settings; django.setup(); "
    "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)"
)


def _start(settings_module: str, tmp_path, **environment) -> subprocess.CompletedProcess:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {*SERVICES, "DJANGO_SETTINGS_MODULE", "DATABASE_REPLICA_URLS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module, KONGCHUO_DATA_DIR=str(tmp_path), **environment
    )
    # A fixed interpreter and a fixed script: nothing here comes from outside the test.
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", SHOW],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _without(name: str) -> dict:
    return {key: value for key, value in SERVICES.items() if key != name}


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (_without("DATABASE_URL"), "DATABASE_URL is not set"),
        (
            {**SERVICES, "DATABASE_URL": "sqlite:///data/kongchuo.sqlite3"},
            "must point at PostgreSQL",
        ),
        (_without("REDIS_URL"), "REDIS_URL is not set"),
        ({**SERVICES, "REDIS_URL": "filesystem://"}, "REDIS_URL must be a redis://"),
        ({**SERVICES, "REDIS_URL": "  "}, "REDIS_URL is not set"),
        (_without("SECRET_KEY"), "SECRET_KEY is not set"),
    ],
    ids=["no-database", "sqlite", "no-broker", "file-system-broker", "blank-broker", "no-key"],
)
def test_production_refuses_to_start_and_names_the_variable(tmp_path, environment, message):
    started = _start("kongchuo.settings.production", tmp_path, **environment)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert message in started.stderr


def test_production_starts_with_postgresql_and_redis(tmp_path):
    started = _start("kongchuo.settings.production", tmp_path, **SERVICES)
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://broker.invalid:6379/0",
    ]


def test_the_local_quick_start_still_needs_neither(tmp_path):
    started = _start("kongchuo.settings.local", tmp_path)
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]
