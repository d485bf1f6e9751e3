"""The Celery app, and the queue of each task (issue 19 §4).

Work is queued by workload, so that a province's comparison or the nightly rules never wait
in front of a teacher's import: each queue has workers of its own (docker-compose.yml), and
``make run``'s single worker consumes them all.

- ``interactive``: what a person is waiting for — imports, exports, documents (the job runner).
- ``nightly``: the scheduled rules, one task per county (疑似辍学 rule, watch list, 人账相符
  check), the purges and the partitions of the next period.
- ``comparisons``: 比对 runs, one task per county and one per list.
- ``reminders``: the morning reminders and digests sent to people.
- the default queue (``CELERY_TASK_DEFAULT_QUEUE``): the minute-by-minute housekeeping
  (heartbeat, audit sealing).

Every task is named in ``WORKLOADS``; a new task that is not fails the routing test
(tests/kongchuo/test_queues.py) until someone decides where it runs. Queue names carry
``CELERY_QUEUE_PREFIX`` (empty in production; the test settings give each test process its own).
"""

import os

from celery import Celery
from django.conf import settings
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kongchuo.settings.local")

DEFAULT = "default"
INTERACTIVE = "interactive"
NIGHTLY = "nightly"
COMPARISONS = "comparisons"
REMINDERS = "reminders"
# The queues besides the default one, in the order workers are listed.
QUEUES = (INTERACTIVE, NIGHTLY, COMPARISONS, REMINDERS)

WORKLOADS = {
    "accounts.tasks.run_job": INTERACTIVE,
    "attendance.tasks.attendance_rule": NIGHTLY,
    "attendance.tasks.attendance_rule_county": NIGHTLY,
    "attendance.tasks.watch_list": NIGHTLY,
    "attendance.tasks.watch_list_county": NIGHTLY,
    "ledger.tasks.consistency_check": NIGHTLY,
    "ledger.tasks.consistency_check_county": NIGHTLY,
    "accounts.tasks.purge_expired_files": NIGHTLY,
    "accounts.tasks.purge_expired_sessions": NIGHTLY,
    "accounts.tasks.create_partitions": NIGHTLY,
    "comparisons.tasks.run_comparison": COMPARISONS,
    "comparisons.tasks.compare_county": COMPARISONS,
    "comparisons.tasks.monthly": COMPARISONS,
    "returns.tasks.reminders": REMINDERS,
    "reports.tasks.reminders": REMINDERS,
    "attendance.tasks.term_start_no_shows": REMINDERS,
    "attendance.tasks.watch_digest": REMINDERS,
    "accounts.tasks.heartbeat": DEFAULT,
    # Sent to each workload's queue by name (accounts.tasks.heartbeat), not by this routing.
    "accounts.tasks.queue_heartbeat": DEFAULT,
    "accounts.tasks.seal_audit": DEFAULT,
}


def queue_name(workload: str) -> str:
    """The broker's name of a workload's queue."""
    if workload == DEFAULT:
        return settings.CELERY_TASK_DEFAULT_QUEUE
    return f"{settings.CELERY_QUEUE_PREFIX}{workload}"


def task_queues(default: str, prefix: str) -> list[Queue]:
    """settings.CELERY_TASK_QUEUES: the default queue and each workload's, so that a worker
    started without ``-Q`` consumes them all."""
    names = [default, *(f"{prefix}{workload}" for workload in QUEUES)]
    return [Queue(name, Exchange(name), routing_key=name) for name in names]


def route(name, args, kwargs, options, task=None, **kw):
    """settings.CELERY_TASK_ROUTES: a task's queue by its workload; Celery's own tasks and
    any task not named go to the default queue."""
    return {"queue": queue_name(WORKLOADS.get(name, DEFAULT))}


app = Celery("kongchuo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
