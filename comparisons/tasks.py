"""Background work of the comparisons: a run (one county, one list), and the monthly
schedule, which fans out one task per county. Tasks load by id, call a service, retry
transient errors only."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask

from accounts.models import Region
from accounts.tasks import RETRY

from . import runs


class RunTask(DjangoTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # The retries are spent: the run must not stay "running" for ever.
        runs.run_gave_up(args[0] if args else kwargs["run_id"])


@shared_task(base=RunTask, **RETRY)
def run_comparison(run_id: int) -> None:
    runs.run_execute(run_id)


@shared_task(**RETRY)
def compare_county(county_id: int) -> int:
    """Start the comparisons of one county's latest lists; returns how many."""
    county = Region.objects.filter(pk=county_id).first()
    return len(runs.start_county(county)) if county is not None else 0


@shared_task(**RETRY)
def monthly() -> int:
    """On the 1st: each county that has lists gets its own task; returns the counties."""
    counties = runs.counties_with_lists()
    for county_id in counties:
        compare_county.delay(county_id)
    return len(counties)
