"""Scheduled work of the ledger."""

from celery import shared_task

from accounts.tasks import RETRY

from . import absence, consistency


@shared_task(**RETRY)
def consistency_check() -> int:
    """Nightly 人账相符 check of every county; returns the number of mismatches found."""
    return sum(run.problem_count for run in consistency.check_all())


@shared_task(**RETRY)
def attendance_rule() -> int:
    """Nightly: the 疑似辍学 rule over every class (submissions run it for their class at
    once; this catches late rolls and changed settings). Returns the entries it opened."""
    return absence.check_all()
