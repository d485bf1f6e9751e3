"""The 劝返 cases' items on the home page (accounts.home): what waits for each person, each a
link to the case list filtered to the same cases (the same conditions, selectors.DUE).

- a township official or cadre, and any team member ("my cases"): instructions to sign for,
  责令改正 deadlines near or passed, cases with no action for RETURNS_IDLE_DAYS, returned
  children whose follow-up is due for its re-check — counted in one query;
- the county, and per county above it: cases whose 责令改正 deadline passed, instructions not
  signed for within RETURNS_ACK_DAYS.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from accounts import home

from . import selectors
from .choices import CaseState
from .models import ReturnCase


def _list(**params) -> str:
    return f"{reverse('returns-list')}?{urlencode(params)}"


def _worker(where: home.Desk) -> list[home.Item]:
    day = where.day
    conditions = {
        "to_acknowledge": Q(state=CaseState.INSTRUCTED),
        **{due: selectors.DUE[due](day) for due in ("deadline", "idle", "follow_up")},
    }
    counts = (
        ReturnCase.objects.for_user(where.user)
        .filter(selectors.mine_q(where.user))
        .aggregate(**{key: Count("pk", filter=condition) for key, condition in conditions.items()})
    )
    items = [
        home.Item(
            key="returns-deadline",
            label="责令改正期限将到或已过",
            count=counts["deadline"],
            hint="期满未返校的，依法推进下一步",
            url=_list(mine=1, due="deadline"),
        ),
        home.Item(
            key="returns-idle",
            label=f"超过{settings.RETURNS_IDLE_DAYS}天未开展劝返",
            count=counts["idle"],
            hint="请上门劝返并登记",
            url=_list(mine=1, due="idle"),
        ),
        home.Item(
            key="returns-follow-up",
            label="复学跟踪期满待复查",
            count=counts["follow_up"],
            hint="请核实在校情况后结案",
            url=_list(mine=1, due="follow_up"),
        ),
    ]
    if where.township:
        items.insert(
            0,
            home.Item(
                key="returns-to-acknowledge",
                label="待签收的劝返指令",
                count=counts["to_acknowledge"],
                hint=f"请在{settings.RETURNS_ACK_DAYS}日内签收",
                url=_list(mine=1, state=CaseState.INSTRUCTED.value),
            ),
        )
    elif not any(item.count for item in items):
        return []  # a teacher or a school not on any team has nothing here
    return items


def _county(where: home.Desk) -> list[home.Item]:
    cases = ReturnCase.objects.for_user(where.user)
    return [
        home.counted(
            where,
            cases.filter(selectors.overdue_q(where.day)),
            "county_id",
            key="returns-overdue",
            label="责令改正逾期的劝返案件",
            hint="期限已满仍未推进或复学",
            url=_list(mine=0, overdue=1),
            county_param="county",
        ),
        home.counted(
            where,
            cases.filter(selectors.unacknowledged_q(where.day)),
            "county_id",
            key="returns-unacknowledged",
            label=f"超过{settings.RETURNS_ACK_DAYS}天未签收的劝返指令",
            hint="请督促责任乡镇签收",
            url=_list(mine=0, due="unacknowledged"),
            county_param="county",
        ),
    ]


@home.register(25)
def case_items(where: home.Desk) -> list[home.Item]:
    if where.county or where.above_county:
        return _county(where)
    return _worker(where)
