"""Background jobs: a real Celery worker over the real broker runs the scheduled tasks."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tasks import TRANSIENT_ERRORS, purge_expired_sessions
from kongchuo.celery import app


def test_nightly_session_purge_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-sessions"]
    assert entry["task"] == purge_expired_sessions.name
    assert settings.CELERY_BEAT_SCHEDULER.startswith("django_celery_beat")


def test_tasks_retry_only_transient_errors_with_backoff():
    assert purge_expired_sessions.autoretry_for == TRANSIENT_ERRORS
    assert purge_expired_sessions.retry_backoff and purge_expired_sessions.max_retries == 5
    assert ValueError not in TRANSIENT_ERRORS


@pytest.mark.django_db
def test_session_purge_is_safe_to_run_twice():
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    live = SessionStore()
    live.create()
    purge_expired_sessions()
    purge_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_task_from_the_redis_broker():
    assert app.conf.broker_url.startswith("redis://")
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        purge_expired_sessions.delay()
        deadline = time.monotonic() + 20
        while Session.objects.filter(session_key=expired.session_key).exists():
            assert time.monotonic() < deadline, "the worker did not run the task"
            time.sleep(0.2)
