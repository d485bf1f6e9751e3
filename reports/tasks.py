"""Scheduled work of the reports."""

from celery import shared_task

from accounts.tasks import RETRY

from . import reminders as report_reminders


@shared_task(**RETRY)
def reminders() -> int:
    """Every morning: the reporting calendar's reminders due today; a second run sends
    nothing more."""
    return report_reminders.send()
