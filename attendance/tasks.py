"""Scheduled work of attendance."""

from celery import shared_task

from accounts.tasks import RETRY

from . import rule, services


@shared_task(**RETRY)
def attendance_rule() -> int:
    """Nightly: the 疑似辍学 rule over every class (submissions run it for their class at
    once; this catches late rolls and changed settings). Returns the entries it opened."""
    return rule.check_all()


@shared_task(**RETRY)
def term_start_no_shows() -> int:
    """Evening: on the last school day of a term's first week, tell each principal who has
    not appeared (DOMAIN.md §4). Returns the schools notified."""
    return services.send_no_shows()
