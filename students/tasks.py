"""Scheduled work of the students app."""

from celery import shared_task

from accounts.tasks import RETRY

from . import attendance


@shared_task(**RETRY)
def term_start_no_shows() -> int:
    """Evening: on the last school day of a term's first week, tell each principal who has
    not appeared (DOMAIN.md §4). Returns the schools notified."""
    return attendance.send_no_shows()
