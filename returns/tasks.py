"""Scheduled work of the 劝返 cases."""

from celery import shared_task

from accounts.tasks import RETRY

from . import reminders as case_reminders


@shared_task(**RETRY)
def reminders() -> int:
    """Every morning: the reminders due today; a second run sends nothing more."""
    return case_reminders.send()
