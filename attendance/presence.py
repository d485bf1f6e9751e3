"""在籍不在校 for the comparisons (issue 13), answered through ``ledger.hooks.not_attending``:
students on a class's roll who were not at school on any of the class's last N recorded
school days — every one of them a day of leave or unexcused absence. A day without a roll call
is not a school day here (a gap, DOMAIN.md §4), so a class with fewer than N roll calls up to
the day says nothing about its students."""

import datetime
from collections import defaultdict

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from accounts.models import SchoolClass

from .choices import ABSENT
from .models import RollCall


def not_attending(
    *, students: QuerySet, days: int, as_of: datetime.date
) -> dict[int, datetime.date]:
    """{student id: the first of the ``days`` roll-call days} for the students of
    ``students`` absent on all of them. One query for the classes' windows, then one per
    distinct window start (the classes of a county mostly share it)."""
    nth_latest = (
        RollCall.objects.filter(klass=OuterRef("pk"), date__lte=as_of)
        .order_by("-date")
        .values("date")[days - 1 : days]
    )
    windows = (
        SchoolClass.objects.filter(pk__in=students.values("klass_id"))
        .annotate(since=Subquery(nth_latest))
        .filter(since__isnull=False)
        .values_list("pk", "since")
    )
    by_start: dict[datetime.date, list[int]] = defaultdict(list)
    for klass_id, since in windows:
        by_start[since].append(klass_id)
    found: dict[int, datetime.date] = {}
    for since, class_ids in by_start.items():
        absent = Count(
            "marks",
            filter=Q(
                marks__date__gte=since,
                marks__date__lte=as_of,
                marks__status__in=ABSENT,
                marks__roll__klass_id=F("klass_id"),
            ),
        )
        rows = (
            students.filter(klass_id__in=class_ids)
            .annotate(absent=absent)
            .filter(absent__gte=days)
            .values_list("pk", flat=True)
        )
        found.update(dict.fromkeys(rows, since))
    return found
