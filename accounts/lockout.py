"""When a locked account may log in again, and the message that says so (login page and API).

django-axes locks an account once the failures recorded within the cool-off window
(AXES_COOLOFF_TIME, 30 minutes) reach AXES_FAILURE_LIMIT (5), counted per account whatever the
address (AXES_LOCKOUT_PARAMETERS). Each record keeps the time of its latest failure, so the lock
ends when enough of the oldest records leave the window for the rest to fall below the limit.
"""

import datetime
import math

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone


def locked_until(username: str) -> datetime.datetime | None:
    """The moment the lock on ``username`` ends, or None when it is not locked."""
    cool_off = get_cool_off()
    limit = settings.AXES_FAILURE_LIMIT
    if not username or cool_off is None:
        return None
    attempts = list(
        AccessAttempt.objects.filter(username=username, attempt_time__gte=timezone.now() - cool_off)
        .order_by("attempt_time")
        .values_list("attempt_time", "failures_since_start")
    )
    remaining = sum(failures for _, failures in attempts)
    for attempt_time, failures in attempts:
        if remaining < limit:
            break
        remaining -= failures
        if remaining < limit:
            return attempt_time + cool_off
    return None


def seconds_left(until: datetime.datetime | None) -> int | None:
    if until is None:
        return None
    return max(1, math.ceil((until - timezone.now()).total_seconds()))


def message(until: datetime.datetime | None) -> str:
    limit = settings.AXES_FAILURE_LIMIT
    if until is None:
        return f"该账号因连续{limit}次登录失败已被锁定，请稍后再试或联系县级管理员解锁。"
    # Shown to the minute, rounded up: "14:36 后" is never still locked.
    at = timezone.localtime(until)
    if at.second or at.microsecond:
        at = at.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    return (
        f"该账号因连续{limit}次登录失败已被锁定，{at:%Y-%m-%d %H:%M} 后可再次登录；"
        "如需提前解锁，请联系县级管理员。"
    )
