"""Scheduled work of attendance."""

from celery import shared_task

from accounts.tasks import RETRY, county, each_county

from . import rule, services, watch


@shared_task(**RETRY)
def attendance_rule() -> int:
    """Nightly: the 疑似辍学 rule over every class (submissions run it for their class at
    once; this catches late rolls and changed settings), a task per county. Returns the
    counties queued."""
    return each_county(attendance_rule_county)


@shared_task(**RETRY)
def attendance_rule_county(county_id: int) -> int:
    """The nightly rule over one county's classes; returns the entries it opened."""
    found = county(county_id)
    return rule.check_county(found) if found is not None else 0


@shared_task(**RETRY)
def term_start_no_shows() -> int:
    """Evening: on the last school day of a term's first week, tell each principal who has
    not appeared (DOMAIN.md §4). Returns the schools notified."""
    return services.send_no_shows()


@shared_task(**RETRY)
def watch_list() -> int:
    """Nightly: recompute every county's watch list (重点监测) from the day's data, a task
    per county. Returns the counties queued."""
    return each_county(watch_list_county)


@shared_task(**RETRY)
def watch_list_county(county_id: int) -> int:
    """One county's watch list brought up to today; returns the reasons newly found."""
    found = county(county_id)
    return watch.compute_county(found).started if found is not None else 0


@shared_task(**RETRY)
def watch_digest() -> int:
    """Weekly: each principal's digest of the watch list; once a week however often it runs.
    Returns the schools written to."""
    return watch.send_digests()
