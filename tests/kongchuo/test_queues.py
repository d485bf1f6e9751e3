"""Queues per workload (issue 19 §4, kongchuo/celery.py): every task has a queue chosen for
it, and a worker of the interactive queue runs a teacher's job while a comparison waits on
its own queue that nobody is consuming."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from accounts.choices import JobStatus
from accounts.models import Heartbeat, Job, User
from accounts.tasks import queue_heartbeat
from comparisons import runs
from comparisons.choices import RunStatus
from comparisons.models import Run
from kongchuo import celery as queues
from kongchuo.celery import app
from tests.comparisons.results import make_row, make_source


def _queue_of(task_name: str) -> str:
    """The queue Celery itself picks when the task is sent (its router and queue table)."""
    return app.amqp.router.route({}, task_name)["queue"].name


def _registered() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_every_task_has_a_workload_and_resolves_to_a_declared_queue():
    """A new task must be given a workload in kongchuo.celery.WORKLOADS, and each one lands
    on a queue the workers are told to consume (settings.CELERY_TASK_QUEUES)."""
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    tasks = _registered()
    assert tasks
    for name in tasks:
        assert name in queues.WORKLOADS, f"{name}: no workload in kongchuo.celery.WORKLOADS"
        assert _queue_of(name) in declared, name
    assert set(queues.WORKLOADS) <= set(tasks), "WORKLOADS names a task that no longer exists"
    assert {queues.queue_name(w) for w in (queues.DEFAULT, *queues.QUEUES)} == declared


def test_jobs_are_interactive_and_comparisons_have_their_own_queue():
    interactive = queues.queue_name(queues.INTERACTIVE)
    assert _queue_of("accounts.tasks.run_job") == interactive
    for name in ("run_comparison", "compare_county", "monthly"):
        assert _queue_of(f"comparisons.tasks.{name}") == queues.queue_name(queues.COMPARISONS)
    for name in (
        "attendance.tasks.attendance_rule",
        "attendance.tasks.attendance_rule_county",
        "attendance.tasks.watch_list_county",
        "ledger.tasks.consistency_check",
        "ledger.tasks.consistency_check_county",
    ):
        assert _queue_of(name) == queues.queue_name(queues.NIGHTLY)
    for name in ("returns.tasks.reminders", "reports.tasks.reminders"):
        assert _queue_of(name) == queues.queue_name(queues.REMINDERS)
    assert _queue_of("accounts.tasks.heartbeat") == settings.CELERY_TASK_DEFAULT_QUEUE
    # This test process's queues are its own (pytest-xdist processes share one Redis).
    assert interactive.startswith(settings.CELERY_TASK_DEFAULT_QUEUE + "-")


def _purge(*names: str) -> None:
    with app.connection_for_write() as connection:
        for name in names:
            connection.default_channel.queue_purge(name)


def _waiting(name: str) -> int:
    with app.connection_for_write() as connection:
        return connection.default_channel.queue_declare(name, passive=True).message_count


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_interactive_worker_runs_a_job_while_the_comparisons_queue_waits(world):
    """A comparison is queued and no worker takes the comparisons queue (a province's run
    would keep one busy); the interactive worker still runs a county's export at once."""
    interactive = queues.queue_name(queues.INTERACTIVE)
    comparisons = queues.queue_name(queues.COMPARISONS)
    _purge(interactive, comparisons)
    source = make_source()
    make_row(source, name="王小芳")
    run = runs.run_start(by=User.objects.get(username="xian_staff"), source=source)
    assert _waiting(comparisons) == 1
    try:
        with start_worker(
            app, queues=[interactive], perform_ping_check=False, pool="solo", loglevel="WARNING"
        ):
            world.client("xian_admin").post("/jobs/", {"kind": "account_export"})
            job = Job.objects.get()
            deadline = time.monotonic() + 30
            while not Job.objects.get(pk=job.pk).finished:
                assert time.monotonic() < deadline, "the interactive worker did not run the job"
                time.sleep(0.2)
            # The health check's heartbeat through the interactive queue reaches this worker.
            queue_heartbeat.apply_async(args=[interactive], queue=interactive)
            while not Heartbeat.objects.filter(queue=interactive).exists():
                assert time.monotonic() < deadline, "no heartbeat through the interactive queue"
                time.sleep(0.2)
        assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
        assert Run.objects.get(pk=run.pk).status == RunStatus.QUEUED
        assert _waiting(comparisons) == 1
    finally:
        # The worker's queue selection is kept on the app: later workers consume them all.
        app.amqp.queues._consume_from = None
        _purge(interactive, comparisons)
