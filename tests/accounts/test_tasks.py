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


def test_every_scheduled_job_names_a_task_the_worker_knows():
    """Beat sends each scheduled entry by task name: a name that no module registers (a task
    moved to another app) would be sent and never run. The worker's registry is filled the
    way the worker fills it, by autodiscovery."""
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert set(schedule) == set(settings.CELERY_BEAT_SCHEDULE)
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, f"{name}: no task {entry['task']}"
    assert "attendance.tasks.attendance_rule" in {e["task"] for e in schedule.values()}


def test_tasks_retry_transient_errors_and_not_others(monkeypatch):
    """A database that is away for a moment is retried; a bug fails at once."""
    from django.db import OperationalError

    import accounts.tasks

    calls = []

    def flaky(name):
        calls.append(name)
        if len(calls) < 3:
            raise OperationalError("server closed the connection")

    monkeypatch.setattr(accounts.tasks, "call_command", flaky)
    assert purge_expired_sessions.apply().successful()
    assert calls == ["clearsessions"] * 3
    assert OperationalError in TRANSIENT_ERRORS

    def broken(name):
        calls.append(name)
        raise ValueError("a bug")

    calls.clear()
    monkeypatch.setattr(accounts.tasks, "call_command", broken)
    assert purge_expired_sessions.apply().failed()
    assert calls == ["clearsessions"]


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
