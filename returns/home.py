"""The 劝返 cases' items on the home page (accounts.home): what waits for each person.

- a township official or cadre, and any team member: instructions to sign for, 责令改正
  deadlines near or passed, cases with no action for RETURNS_IDLE_DAYS;
- the county, and per county above it: cases whose 责令改正 deadline passed, instructions not
  signed for within RETURNS_ACK_DAYS.
"""

from django.conf import settings

from accounts import home

from . import selectors
from .choices import CaseState
from .models import ReturnCase


def _worker(where: home.Desk) -> list[home.Item]:
    mine = ReturnCase.objects.for_user(where.user).filter(selectors.mine_q(where.user))
    day = where.day
    items = [
        home.Item(
            key="returns-deadline",
            label="责令改正期限将到或已过",
            count=mine.filter(selectors.deadline_near_q(day) | selectors.overdue_q(day)).count(),
            hint="期满未返校的，依法推进下一步",
        ),
        home.Item(
            key="returns-idle",
            label=f"超过{settings.RETURNS_IDLE_DAYS}天未开展劝返",
            count=mine.filter(selectors.idle_q(day)).count(),
            hint="请上门劝返并登记",
        ),
    ]
    if where.township:
        items.insert(
            0,
            home.Item(
                key="returns-to-acknowledge",
                label="待签收的劝返指令",
                count=mine.filter(state=CaseState.INSTRUCTED).count(),
                hint=f"请在{settings.RETURNS_ACK_DAYS}日内签收",
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
        ),
        home.counted(
            where,
            cases.filter(selectors.unacknowledged_q(where.day)),
            "county_id",
            key="returns-unacknowledged",
            label=f"超过{settings.RETURNS_ACK_DAYS}天未签收的劝返指令",
            hint="请督促责任乡镇签收",
        ),
    ]


@home.register(25)
def case_items(where: home.Desk) -> list[home.Item]:
    if where.county or where.above_county:
        return _county(where)
    return _worker(where)
