"""Scheduled work of the ledger."""

from celery import shared_task

from accounts.tasks import RETRY

from . import consistency


@shared_task(**RETRY)
def consistency_check() -> int:
    """Nightly 人账相符 check of every county; returns the number of mismatches found."""
    return sum(run.problem_count for run in consistency.check_all())
