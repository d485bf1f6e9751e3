"""Scheduled work of attendance."""

from celery import shared_task

from accounts.tasks import RETRY

from . import rule, services, watch


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


@shared_task(**RETRY)
def watch_list() -> int:
    """Nightly: recompute every county's watch list (重点监测) from the day's data. Returns
    the reasons newly found."""
    return watch.compute_all().started


@shared_task(**RETRY)
def watch_digest() -> int:
    """Weekly: each principal's digest of the watch list; once a week however often it runs.
    Returns the schools written to."""
    return watch.send_digests()
