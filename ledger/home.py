"""The ledger's items on the home page (accounts.home): the entries that wait for the user.

- a class teacher: the children of their classes with an open entry;
- a school: 疑似辍学 entries to verify (待核实);
- a township: the entries it persuades (劝返中) and follows up after a return (已复学);
- the county, and per county above it: 销号 proposals to approve, entries overdue for their
  学期分类复核, confirmed dropouts without a responsible township yet, and the latest
  人账相符 result.
"""

from django.db.models import OuterRef, Subquery
from django.urls import reverse

from accounts import home
from accounts.choices import RegionLevel
from accounts.permissions import can
from students.calendar import term_calendars

from . import permissions, terms
from .choices import OPEN_STATES, State
from .models import ConsistencyRun, LedgerEntry

# An entry's county: the county its responsible township belongs to.
COUNTY = "township__parent_id"


def _list(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{reverse('ledger-list')}?{query}"


def _in_state(where: home.Desk, state: State, key: str, label: str, hint: str) -> home.Item:
    entries = LedgerEntry.objects.for_user(where.user).filter(state=state)
    if where.township:
        # What waits for a township is what it is responsible for, not every entry of the
        # children at its schools (a child whose 户籍 is elsewhere is persuaded there).
        region = where.user.region
        entries = entries.filter(
            township_id=region.pk if region.level == RegionLevel.TOWNSHIP else region.parent_id
        )
    return home.counted(
        where,
        entries,
        COUNTY,
        key=key,
        label=label,
        hint=hint,
        url=_list(state=state.value),
        county_param="county",
    )


def _overdue(where: home.Desk) -> home.Item:
    # Only the terms that tell each calendar's current term on the day, not all their years.
    # Every county's: an area's entries may follow the calendar of a school elsewhere (a
    # child persuaded by a township of the area, at school in another county), and finding
    # those would cost a scan of the area's entries, more than reading the current terms.
    condition = terms.overdue_q(term_calendars(on=where.day), where.day)
    entries = LedgerEntry.objects.for_user(where.user)
    entries = entries.filter(condition) if condition is not None else entries.none()
    return home.counted(
        where,
        entries,
        COUNTY,
        key="ledger-overdue",
        label="逾期未分类复核",
        hint="开学一个月内应完成学期分类复核",
        url=_list(overdue=1),
        county_param="county",
    )


def _latest_consistency(where: home.Desk) -> home.Item:
    runs = ConsistencyRun.objects.for_user(where.user)
    url = reverse("ledger-consistency") if can(where.user, permissions.CONSISTENCY) else ""
    if where.above_county:
        latest = runs.filter(
            pk=Subquery(
                ConsistencyRun.objects.filter(county=OuterRef("county"))
                .order_by("-ran_at", "-id")
                .values("pk")[:1]
            )
        )
        by_county = dict(latest.values_list("county_id", "problem_count"))
        return home.Item(
            key="ledger-consistency",
            label="人账相符问题（最近一次核查）",
            count=sum(by_county.values()),
            by_county=by_county,
            url=url,
        )
    run = runs.order_by("-ran_at", "-id").first()
    return home.Item(
        key="ledger-consistency",
        label="人账相符问题（最近一次核查）",
        count=run.problem_count if run else 0,
        hint=f"{run.ran_at:%Y-%m-%d %H:%M} 核查" if run else "尚未核查",
        url=url,
    )


@home.register(20)
def ledger_items(where: home.Desk) -> list[home.Item]:
    user = where.user
    if where.teacher:
        entries = LedgerEntry.objects.for_user(user).filter(state__in=OPEN_STATES)
        return [
            home.Item(
                key="ledger-my-classes",
                label="本班在册台账学生",
                count=entries.count(),
                hint="已登记为疑似辍学、辍学或未入学，尚未销号",
                url=_list(open=1),
            )
        ]
    if where.at_school:
        return [
            _in_state(
                where, State.PENDING, "ledger-pending", "待核实的疑似辍学", "请核实后确认或排除"
            )
        ]
    if where.township:
        return [
            _in_state(where, State.PERSUADING, "ledger-persuading", "劝返中", "请按四步法开展劝返"),
            _in_state(
                where, State.RETURNED, "ledger-returned", "已复学跟踪中", "稳定就读后申请销号"
            ),
        ]
    if where.county or where.above_county:
        return [
            _in_state(
                where,
                State.PROPOSED,
                "ledger-proposed",
                "待审批的销号申请",
                "请核对佐证材料后批准或退回",
            ),
            _overdue(where),
            _in_state(
                where,
                State.CONFIRMED,
                "ledger-confirmed",
                "已确认辍学待落实劝返主体",
                "请指定负责劝返的乡镇",
            ),
            _latest_consistency(where),
        ]
    return []
