"""Scheduled work of the ledger."""

from celery import shared_task

from accounts.tasks import RETRY, county, each_county

from . import consistency


@shared_task(**RETRY)
def consistency_check() -> int:
    """Nightly 人账相符 check of every county, a task per county; returns the counties
    queued."""
    return each_county(consistency_check_county)


@shared_task(**RETRY)
def consistency_check_county(county_id: int) -> int:
    """One county's nightly check; returns the number of mismatches found."""
    found = county(county_id)
    return consistency.check_county(found).problem_count if found is not None else 0
