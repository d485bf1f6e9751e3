"""The reporting calendar's reminders (DOMAIN.md §9, issue 14 rule 5) through the notification
centre: to the person responsible before a deadline, to their supervisor after it. Each is
sent once per person per deadline: its dedupe key names the rule, the period and the target
(the school, the area), so a second run the same day — or any later day of the window — sends
nothing more.

- monthly report (002): from five days before the 20th to the school staff and principal of
  each school not yet signed (a 村小's or 教学点's go to its 中心校, which signs for it); from
  the 20th to the end of the month, the list of missing schools to the county staff; under a
  双月报 only in the report months;
- each level's sign-off (四个一, 003): from the first day of its period's last month to the
  signers of each area not yet signed; after the period, to the level above (the province,
  with none above it in the system, is told itself);
- term start: the school's first week (no-shows: the list itself is attendance's
  term_start_no_shows), and in the last REPORTS_TERM_NOTICE_DAYS of the classification month
  the schools with entries not yet classified this term; after it the county staff with the
  count of 逾期未分类 entries (ledger.terms.overdue_q). Returned children's re-check is the
  劝返 reminders' follow-up (returns.reminders), not repeated here;
- the enrolment calendar (003): April school-age survey, May enrolment plan, June–August
  enrolment and return notices, to county staff and township officials.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts import jurisdiction
from accounts.choices import NotificationKind, RegionLevel, Role
from accounts.models import Region, School, User
from accounts.notifications import notify, subject
from accounts.selectors import recipients_for_school
from attendance.selectors import FIRST_WEEK, first_week_start
from ledger.models import LedgerEntry
from ledger.terms import due_q, overdue_q, review_deadline
from students.calendar import calendars_for, county_calendar, term_calendars

from . import cadence, periods
from .models import SignOff
from .selectors import unsigned_schools

NOTICE_DAYS = 5  # "5 days before the 20th"
SCHOOL_SIGNERS = (Role.SCHOOL_STAFF, Role.PRINCIPAL)
NAMES_SHOWN = 30


def _send(recipients, *, rule: str, period: str, target: str, title: str, body: str, link: str):
    return len(
        notify(
            recipients,
            kind=NotificationKind.REPORT_REMINDER,
            title=title,
            body=body,
            link=link,
            dedupe_key=f"reports:{rule}:{period}:{target}",
        )
    )


def _names(schools) -> str:
    names = [school.name for school in schools]
    shown = "、".join(names[:NAMES_SHOWN])
    return shown + (f"等{len(names)}所" if len(names) > NAMES_SHOWN else "")


def _county_staff(county_ids) -> dict[int, list[User]]:
    staff = defaultdict(list)
    for user in User.objects.filter(
        region_id__in=list(county_ids), role=Role.COUNTY_STAFF, is_active=True
    ):
        staff[user.region_id].append(user)
    return staff


# --- monthly report --------------------------------------------------------------------------


def monthly(today: datetime.date) -> int:
    sent = 0
    for province in Region.objects.filter(level=RegionLevel.PROVINCE):
        period = periods.current_period(today, bimonthly=periods.is_bimonthly(province))
        if period.month != today.month:
            continue  # 双月报: not a report month
        schools = jurisdiction.within(province, School.objects.all())
        if period.due_on - datetime.timedelta(days=NOTICE_DAYS) <= today < period.due_on:
            sent += _monthly_due(schools, period)
        elif today >= period.due_on:
            sent += _monthly_missing(schools, period)
    return sent


def _monthly_due(schools, period: periods.ReportPeriod) -> int:
    sent = 0
    link = reverse("home")
    for school in unsigned_schools(schools, period).select_related("parent"):
        signer = school.parent or school  # a 中心校 signs for its 村小 and 教学点
        sent += _send(
            recipients_for_school(signer, SCHOOL_SIGNERS),
            rule="monthly-due",
            period=f"{period.year}-{period.month:02d}",
            target=f"school{school.pk}",
            title=f"{subject(school=school)}：{period.label}辍学月报表请于{period.due_on:%m月%d日}前签发",
            body=f"{period.label}的《义务教育阶段学生辍学月报表》尚未签发，"
            f"请核对台账后由校长于{period.due_on:%Y年%m月%d日}前签发。",
            link=link,
        )
    return sent


def _monthly_missing(schools, period: periods.ReportPeriod) -> int:
    missing = defaultdict(list)
    for school in unsigned_schools(schools, period).select_related("township").order_by("code"):
        missing[school.township.parent_id].append(school)
    staff = _county_staff(missing)
    sent = 0
    for county_id, late in missing.items():
        sent += _send(
            staff[county_id],
            rule="monthly-missing",
            period=f"{period.year}-{period.month:02d}",
            target=f"county{county_id}",
            title=f"{period.label}辍学月报表：{len(late)}所学校逾期未签发",
            body=f"截至{period.due_on:%m月%d日}仍未签发的学校：{_names(late)}。请督促报送。",
            link=reverse("home"),
        )
    return sent


# --- sign-offs (四个一) -----------------------------------------------------------------------


def _signers(level: cadence.Level, region_ids) -> dict[int, list[User]]:
    people = defaultdict(list)
    for user in User.objects.filter(
        region_id__in=list(region_ids), role__in=level.roles, is_active=True
    ):
        people[user.region_id].append(user)
    return people


def _unsigned_regions(which: cadence.SignPeriod) -> list[Region]:
    signed = SignOff.objects.filter(
        period=which.period, year=which.year, number=which.number
    ).values("region_id")
    return list(
        Region.objects.filter(level=which.level.region_level)
        .exclude(pk__in=signed)
        .order_by("code")
    )


def sign_offs(today: datetime.date) -> int:
    sent = 0
    link = reverse("report-sign-offs")
    for level in cadence.LEVELS.values():
        current = cadence.period_containing(level.period, today)
        if current is not None and current.opens_on <= today:
            regions = _unsigned_regions(current)
            signers = _signers(level, [region.pk for region in regions])
            for region in regions:
                sent += _send(
                    signers[region.pk],
                    rule="sign-off-due",
                    period=current.key,
                    target=f"region{region.pk}",
                    title=f"{region.name}{current.label}审核请于{current.last_day:%m月%d日}前签发",
                    body=f"四个一：{level.name}{current.label}审核已可签发，"
                    f"请于{current.last_day:%Y年%m月%d日}前填写审核意见并签发。",
                    link=link,
                )
        ended = cadence.latest_ended(level.period, today)
        regions = _unsigned_regions(ended)
        above = cadence.LEVELS.get(cadence.ABOVE.get(level.period), level)
        # Each area's supervisors: the accounts of the level above whose region holds it.
        parents = _ancestors(regions, above.region_level)
        supervisors = _signers(above, set(parents.values()))
        for region in regions:
            sent += _send(
                supervisors.get(parents.get(region.pk), []),
                rule="sign-off-late",
                period=ended.key,
                target=f"region{region.pk}",
                title=f"{region.name}{ended.label}审核逾期未签发",
                body=f"四个一：{region.name}的{ended.label}审核应于{ended.last_day:%Y年%m月%d日}前"
                "签发，至今未签发，请督促。",
                link=link,
            )
    return sent


def _ancestors(regions: list[Region], level: int) -> dict[int, int]:
    """Each region's id → the id of the region at ``level`` holding it (itself at its own
    level), by code, in one query."""
    length = {RegionLevel.PROVINCE: 2, RegionLevel.CITY: 4, RegionLevel.COUNTY: 6}[level]
    codes = {region.pk: region.code[:length].ljust(6, "0") for region in regions}
    found = dict(Region.objects.filter(code__in=set(codes.values())).values_list("code", "pk"))
    return {pk: found[code] for pk, code in codes.items() if code in found}


# --- term start ------------------------------------------------------------------------------


def term_start(today: datetime.date) -> int:
    schools = School.objects.select_related("township")
    calendars = calendars_for(schools.values_list("pk", flat=True))
    by_pk = schools.in_bulk(list(calendars))
    sent = 0
    # The first day of the first week: who has not reported by its end is listed to the
    # principal (attendance.services.send_no_shows).
    for pk, cal in calendars.items():
        start = first_week_start(cal, today)
        if start is None:
            continue
        last = start + FIRST_WEEK - datetime.timedelta(days=1)
        sent += _send(
            recipients_for_school(by_pk[pk], SCHOOL_SIGNERS),
            rule="term-no-shows",
            period=f"{start:%Y%m%d}",
            target=f"school{pk}",
            title=f"{subject(school=by_pk[pk])}：开学第一周请核查未报到学生",
            body=f"新学期自{start:%m月%d日}开学，请每天点名，{last:%m月%d日}前核查未报到学生；"
            "开学一周仍未报到的，系统将把名单发给校长。",
            link=reverse("home"),
        )
    sent += _classification_due(today, calendars, by_pk)
    return sent + _classification_overdue(today)


def _classification_due(today, calendars, by_pk) -> int:
    """In the classification month's last days: schools with open entries not reviewed since
    the term began."""
    condition = due_q(term_calendars(on=today), today, settings.REPORTS_TERM_NOTICE_DAYS)
    if condition is None:
        return 0
    waiting = dict(
        LedgerEntry.objects.filter(condition, school_id__in=list(calendars))
        .order_by()
        .values_list("school_id")
        .annotate(n=Count("pk"))
    )
    sent = 0
    for school_id, count in waiting.items():
        start = calendars[school_id].latest_term(today).start
        deadline = review_deadline(start)
        sent += _send(
            recipients_for_school(by_pk[school_id], SCHOOL_SIGNERS),
            rule="term-classify",
            period=f"{start:%Y%m%d}",
            target=f"school{school_id}",
            title=f"{subject(school=by_pk[school_id])}：{count}条台账待学期分类复核",
            body=f"开学一个月内应完成台账学期分类复核，截止{deadline:%Y年%m月%d日}。",
            link=reverse("ledger-list"),
        )
    return sent


def _classification_overdue(today: datetime.date) -> int:
    condition = overdue_q(term_calendars(on=today), today)
    if condition is None:
        return 0
    counts = (
        LedgerEntry.objects.filter(condition)
        .order_by()
        .values("township__parent_id")
        .annotate(n=Count("pk"))
    )
    counties = Region.objects.in_bulk([row["township__parent_id"] for row in counts])
    staff = _county_staff(counties)
    sent = 0
    for row in counts:
        county = counties[row["township__parent_id"]]
        term = county_calendar(county).latest_term(today)
        sent += _send(
            staff[county.pk],
            rule="term-classify-late",
            period=f"{term.start:%Y%m%d}" if term else f"{today:%Y%m}",
            target=f"county{county.pk}",
            title=f"{county.name}：{row['n']}条台账逾期未分类复核",
            body="开学一个月内应完成学期分类复核，以下台账已逾期，请督促学校和乡镇核实分类。",
            link=f"{reverse('ledger-list')}?overdue=1",
        )
    return sent


# --- the enrolment calendar (003) ------------------------------------------------------------


@dataclass(frozen=True)
class Dated:
    rule: str
    months: tuple[int, ...]
    title: str
    body: str
    roles: tuple[str, ...]


CALENDAR = (
    Dated(
        "survey",
        (4,),
        "4月：适龄儿童少年入学情况排查",
        "每年4月，乡镇人民政府以户籍、居住证人口为基本依据，全面排查区域内年满6周岁及以上"
        "适龄儿童少年入学、失学、辍学情况，做到不漏户、不漏人。",
        (Role.TOWNSHIP_OFFICIAL, Role.COUNTY_STAFF),
    ),
    Dated(
        "enrolment-plan",
        (5,),
        "5月：制定招生入学、复学、保学工作计划",
        "每年5月，县人民政府统筹制定招生入学、复学、保学工作计划并组织实施。",
        (Role.COUNTY_STAFF,),
    ),
    Dated(
        "notices",
        (6, 7, 8),
        "6—8月：发放义务教育入学、复学通知书",
        "每年6—8月，乡镇人民政府向适龄儿童少年的父母或其他法定监护人发放义务教育入学、"
        "复学通知书，并督促适龄儿童少年入学、复学。",
        (Role.TOWNSHIP_OFFICIAL, Role.COUNTY_STAFF),
    ),
)


def enrolment_calendar(today: datetime.date) -> int:
    sent = 0
    for dated in CALENDAR:
        if today.month not in dated.months:
            continue
        people = defaultdict(list)
        for user in User.objects.filter(role__in=dated.roles, is_active=True, region__isnull=False):
            people[user.region_id].append(user)
        for target, users in people.items():
            sent += _send(
                users,
                rule=dated.rule,
                period=str(today.year),
                target=f"region{target}",
                title=dated.title,
                body=dated.body,
                link=reverse("home"),
            )
    return sent


RULES = (monthly, sign_offs, term_start, enrolment_calendar)


def send(today: datetime.date | None = None) -> int:
    """Every reporting-calendar reminder due on ``today``; returns the notifications sent."""
    today = today or timezone.localdate()
    return sum(rule(today) for rule in RULES)
