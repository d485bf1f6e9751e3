"""Background jobs of the accounts app. Tasks load by id, call a service, retry transient
errors only."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from kongchuo import partitions

from . import jobs
from .choices import RegionLevel
from .models import Region

TRANSIENT_ERRORS = (OperationalError, *jobs.TRANSIENT_ERRORS)
RETRY = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


def each_county(task) -> int:
    """Queue ``task`` once for each county (its id): the nightly rules run a county a task,
    so that none outlives the broker's visibility timeout at province scale (issue 19 §4)
    and one county's failure is retried alone. Returns the counties queued."""
    counties = Region.objects.filter(level=RegionLevel.COUNTY).order_by("code")
    county_ids = list(counties.values_list("pk", flat=True))
    for county_id in county_ids:
        task.delay(county_id)
    return len(county_ids)


def county(county_id: int) -> Region | None:
    """A county task's county (None: it was deleted since it was queued)."""
    return Region.objects.filter(pk=county_id, level=RegionLevel.COUNTY).first()


@shared_task(**RETRY)
def create_partitions() -> list[str]:
    """Nightly: the partitions of the current and the next school year or month of the
    tables that grow by the day (kongchuo.partitions). Running it twice creates nothing."""
    return partitions.ensure(timezone.localdate())


@shared_task(**RETRY)
def purge_expired_sessions():
    """Nightly: drop expired sessions. Running it twice removes nothing more."""
    call_command("clearsessions")


class JobTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # The retries are spent (the database or storage stayed away): the job must not
        # stay "running" for ever.
        jobs.job_gave_up(args[0] if args else kwargs["job_id"])


@shared_task(base=JobTask, **RETRY)
def run_job(job_id: int):
    jobs.job_run(job_id)


@shared_task(bind=True, ignore_result=True)
def heartbeat(self):
    """Every minute (beat), on the default queue: this worker is alive; and a heartbeat is
    sent through each workload's queue, so that the health endpoint sees a worker behind
    every queue (one worker per queue in docker-compose.yml)."""
    from . import health

    default, *others = health.queues()
    health.beat(self.request.hostname or "worker", default)
    for queue in others:
        queue_heartbeat.apply_async(args=[queue], queue=queue)


@shared_task(bind=True, ignore_result=True)
def queue_heartbeat(self, queue: str):
    """A worker of ``queue`` is alive (sent by heartbeat through that queue)."""
    from . import health

    health.beat(self.request.hostname or "worker", queue)


@shared_task(**RETRY)
def seal_audit():
    """Every minute (beat): chain the audit rows written since the last run."""
    from . import audit_chain

    audit_chain.seal()


@shared_task(**RETRY)
def purge_expired_files():
    """Nightly: delete result files and waiting uploads past their keeping time."""
    jobs.purge_expired()
