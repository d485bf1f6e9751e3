"""The comparisons' item on the home page (accounts.home): the open mismatches of the latest
comparisons that wait for the user — the county's all (and per county above it), a township's
and a school's their own — with a line per kind, each a link to the list filtered to it.
Counted in one grouped query."""

from collections import Counter
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from accounts import home

from . import selectors
from .choices import MismatchKind


def _list(**params) -> str:
    return f"{reverse('comparisons-mismatches')}?{urlencode({'handled': '0', **params})}"


@home.register(30)
def mismatch_items(where: home.Desk) -> list[home.Item]:
    if where.teacher:
        return []
    rows = (
        selectors.mismatches(where.user, handled=False)
        .order_by()
        .values_list("county_id", "kind")
        .annotate(n=Count("id"))
    )
    by_kind, by_county = Counter(), Counter()
    for county, kind, n in rows:
        by_kind[kind] += n
        by_county[county] += n
    if not by_kind and not (where.county or where.above_county):
        return []  # a township or a school with nothing to do about comparisons
    lines = [
        home.Line(
            label=label,
            url=_list(kind=value),
            status=f"{by_kind[value]}条",
            done=False,
            key=f"comparisons-{value}",
        )
        for value, label in MismatchKind.choices
        if by_kind[value]
    ]
    return [
        home.Item(
            key="comparisons-open",
            label="待处理的比对不一致",
            count=sum(by_kind.values()),
            hint="登记未入学台账、更正学生标识、关联学生或说明情况",
            url=_list(),
            lines=lines,
            by_county=dict(by_county) if where.above_county else None,
            county_param="county",
        )
    ]
