"""四个一 above the school (DOMAIN.md §8, 003): the county reviews each quarter, the city each
term, the province each year, and each level signs off its own period with a summary; the
level above sees which areas below have and have not signed, and the county sees its schools'
monthly reports for the quarter's months. Also the province's 双月报 switch (004).

The periods:

- a quarter is a calendar quarter (第1季度 January–March …);
- a term is one of the two halves of school year ``year``: 第一学期 September–January,
  第二学期 February–July (the city spans counties with different school calendars, so the
  city's term is by month, not by any one calendar);
- a year is the calendar year (the annual assessment, 年度考核).

A period may be signed from the first day of its last month (the quarter's review meeting, the
term's inspection and the year's assessment happen in it) and is due by its last day; it can
still be signed after that, late. Each period is signed once per area: a sign-off is never
changed.
"""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import audit, jurisdiction, permissions
from accounts.choices import RegionLevel, Role
from accounts.models import Region, School, User
from kongchuo.errors import AppError

from . import periods
from .choices import Period
from .models import ReportCadence, SignOff
from .selectors import unsigned_schools

SIGN = "reports.sign_off"
CADENCE = "reports.cadence"
SUMMARY_LENGTH = 2000


@dataclass(frozen=True)
class Level:
    period: str
    region_level: int
    roles: frozenset[str]
    name: str  # 县级 …
    count: int  # periods per year


LEVELS = {
    Period.QUARTER: Level(
        Period.QUARTER,
        RegionLevel.COUNTY,
        frozenset({Role.COUNTY_STAFF, Role.COUNTY_ADMIN}),
        "县级",
        4,
    ),
    Period.TERM: Level(Period.TERM, RegionLevel.CITY, frozenset({Role.CITY_SUPERVISOR}), "市级", 2),
    Period.YEAR: Level(
        Period.YEAR, RegionLevel.PROVINCE, frozenset({Role.PROVINCE_SUPERVISOR}), "省级", 1
    ),
}
# The level below each level's period (the county's below are its schools' monthly reports).
BELOW = {Period.TERM: Period.QUARTER, Period.YEAR: Period.TERM}
ABOVE = {below: above for above, below in BELOW.items()}

permissions.register(
    SIGN,
    permissions.by_roles(
        {role for level in LEVELS.values() for role in level.roles},
        "只有县教体局、市级督导和省级督导可以签发本级的逐级审核。",
    ),
)
permissions.register(
    CADENCE, permissions.by_roles({Role.PROVINCE_SUPERVISOR}, "只有省级督导可以设置报送周期。")
)


@dataclass(frozen=True)
class SignPeriod:
    period: str
    year: int
    number: int

    @property
    def first_month(self) -> tuple[int, int]:
        if self.period == Period.QUARTER:
            return self.year, 3 * self.number - 2
        if self.period == Period.TERM:
            return (self.year, 9) if self.number == 1 else (self.year + 1, 2)
        return self.year, 1

    @property
    def last_month(self) -> tuple[int, int]:
        if self.period == Period.QUARTER:
            return self.year, 3 * self.number
        if self.period == Period.TERM:
            return (self.year + 1, 1) if self.number == 1 else (self.year + 1, 7)
        return self.year, 12

    @property
    def months(self) -> list[tuple[int, int]]:
        year, month = self.first_month
        result = []
        while (year, month) <= self.last_month:
            result.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return result

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(*self.first_month, 1)

    @property
    def opens_on(self) -> datetime.date:
        """Signing opens on the first day of the period's last month."""
        return datetime.date(*self.last_month, 1)

    @property
    def last_day(self) -> datetime.date:
        """The period's last day: its sign-off is due by then."""
        return periods.month_end(*self.last_month)

    @property
    def label(self) -> str:
        if self.period == Period.QUARTER:
            return f"{self.year}年第{self.number}季度"
        if self.period == Period.TERM:
            half = "一" if self.number == 1 else "二"
            return f"{self.year}—{self.year + 1}学年第{half}学期"
        return f"{self.year}年度"

    @property
    def key(self) -> str:
        return f"{self.period}-{self.year}-{self.number}"

    @property
    def level(self) -> Level:
        return LEVELS[self.period]

    def contains(self, year: int, month: int) -> bool:
        return (year, month) in self.months


def sign_period(period: str, year: int, number: int) -> SignPeriod:
    """The period named by the input, or a clear refusal naming the field."""
    if period not in LEVELS:
        raise AppError("周期应为季度、学期或年度之一。", field="period")
    if not 2000 <= year <= 2100:
        raise AppError("年份应在2000至2100之间。", field="year")
    count = LEVELS[period].count
    if not 1 <= number <= count:
        what = {
            Period.QUARTER: "季度应为1至4",
            Period.TERM: "学期应为1或2",
            Period.YEAR: "年度序号应为1",
        }
        raise AppError(f"{what[period]}。", field="number")
    return SignPeriod(period, year, number)


def _candidates(period: str, day: datetime.date) -> list[SignPeriod]:
    return [
        SignPeriod(period, year, number)
        for year in range(day.year - 2, day.year + 1)
        for number in range(1, LEVELS[period].count + 1)
    ]


def period_containing(period: str, day: datetime.date) -> SignPeriod | None:
    """The level's period ``day`` falls in (none for a term in August, the summer)."""
    found = [each for each in _candidates(period, day) if each.contains(day.year, day.month)]
    return found[0] if found else None


def latest_ended(period: str, day: datetime.date) -> SignPeriod:
    """The level's latest period that ended before ``day``."""
    ended = [each for each in _candidates(period, day) if each.last_day < day]
    return max(ended, key=lambda each: each.last_day)


def periods_below(sign: SignPeriod) -> list[SignPeriod]:
    """The periods of the level below that end within ``sign`` (a term's two quarters)."""
    below = BELOW[sign.period]
    year = sign.last_month[0]
    found = [
        SignPeriod(below, candidate_year, number)
        for candidate_year in range(year - 1, year + 1)
        for number in range(1, LEVELS[below].count + 1)
    ]
    return [each for each in found if sign.contains(*each.last_month)]


def report_periods(sign: SignPeriod, *, bimonthly: bool) -> list[periods.ReportPeriod]:
    """The monthly (or 双月报) report periods ending in a quarter's months."""
    result = []
    for year, month in sign.months:
        period = periods.period_for(year, month, bimonthly=bimonthly)
        if period.month == month and period not in result:
            result.append(period)
    return result


def level_of(user: User) -> Level | None:
    """The level whose periods ``user`` signs, or None."""
    # An account's role fixes its region's level (accounts.choices.ROLE_REGION_LEVEL).
    for level in LEVELS.values():
        if user.role in level.roles and user.region_id:
            return level
    return None


# --- the one write path --------------------------------------------------------------------


def sign(
    *, by: User, which: SignPeriod, summary: str, region: Region | None = None, today=None
) -> SignOff:
    """Sign off ``which`` for the signer's own area with ``summary`` (audited)."""
    permissions.require(by, SIGN)
    today = today or timezone.localdate()
    level = level_of(by)
    if level is None:
        raise AppError("当前账号不属于县、市、省任何一级，不能签发逐级审核。")
    if region is not None and region.pk != by.region_id:
        raise AppError(
            f"只能签发本级（{by.region.name}）的审核，不能代其他地区签发。", field="region"
        )
    if which.period != level.period:
        label = Period(level.period).label
        raise AppError(f"{level.name}按{label}签发，请选择{label}。", field="period")
    if today < which.opens_on:
        raise AppError(
            f"{which.label}尚未进入最后一个月，{which.opens_on:%Y年%m月%d日}起方可签发。",
            field="number",
        )
    summary = (summary or "").strip()
    if not summary:
        raise AppError("请填写审核意见。", field="summary")
    if len(summary) > SUMMARY_LENGTH:
        raise AppError(f"审核意见不能超过{SUMMARY_LENGTH}字。", field="summary")
    existing = _signed(by.region, which)
    if existing is not None:
        raise _twice(existing)
    try:
        with transaction.atomic():
            signed = SignOff.objects.create(
                region=by.region,
                period=which.period,
                year=which.year,
                number=which.number,
                summary=summary,
                signed_by=by,
            )
            audit.record_change(
                actor=by, instance=signed, before=None, detail=f"签发{which.label}审核"
            )
    except IntegrityError:  # a concurrent signature of the same period won
        raise _twice(_signed(by.region, which)) from None
    return signed


def _signed(region: Region, sign: SignPeriod) -> SignOff | None:
    return (
        SignOff.objects.filter(
            region=region, period=sign.period, year=sign.year, number=sign.number
        )
        .select_related("signed_by")
        .first()
    )


def _twice(existing: SignOff) -> AppError:
    at = timezone.localtime(existing.signed_at)
    who = existing.signed_by.full_name or existing.signed_by.username
    return AppError(
        f"{existing.region.name}的这一期审核已于{at:%Y-%m-%d %H:%M}由{who}签发，不能重复签发。"
    )


# --- reads -----------------------------------------------------------------------------------


@dataclass
class Due:
    """One of the level's periods open for signing, with its sign-off if any."""

    sign: SignPeriod
    signed: SignOff | None
    late: bool  # not signed and past its last day


def open_periods(level: Level, today: datetime.date) -> list[SignPeriod]:
    """The level's periods to show for signing on ``today``: the one open now (in its last
    month) or, between two, none; and the latest ended one."""
    result = []
    current = period_containing(level.period, today)
    if current is not None and current.opens_on <= today:
        result.append(current)
    result.append(latest_ended(level.period, today))
    return result


def due_for(user: User, today: datetime.date) -> list[Due]:
    """The user's level's open periods with their sign-off (one query)."""
    level = level_of(user)
    if level is None:
        return []
    shown = open_periods(level, today)
    signed = {
        (each.year, each.number): each
        for each in SignOff.objects.filter(
            region_id=user.region_id, period=level.period, year__in={s.year for s in shown}
        ).select_related("signed_by")
    }
    result = []
    for each in shown:
        found = signed.get((each.year, each.number))
        result.append(Due(each, found, found is None and each.last_day < today))
    return result


def waiting(user: User, today: datetime.date, below_ids: set[int]):
    """For the home page, in one query: the user's level's open periods not yet signed, and
    the latest ended period of the level below with how many of ``below_ids`` (the areas
    below) have not signed it (None: no level below)."""
    level = level_of(user)
    shown = open_periods(level, today)
    condition = Q(region_id=user.region_id, period=level.period, year__in={s.year for s in shown})
    ended = latest_ended(BELOW[level.period], today) if level.period in BELOW else None
    if ended is not None:
        condition |= Q(
            region_id__in=below_ids, period=ended.period, year=ended.year, number=ended.number
        )
    rows = set(
        SignOff.objects.filter(condition).values_list("region_id", "period", "year", "number")
    )
    own = [
        Due(each, None, each.last_day < today)
        for each in shown
        if (user.region_id, each.period, each.year, each.number) not in rows
    ]
    if ended is None:
        return own, None, 0
    signed_below = {row[0] for row in rows if row[1] == ended.period}
    return own, ended, len(below_ids - signed_below)


@dataclass
class AreaRow:
    region: Region
    signed: dict[str, SignOff | None]  # SignPeriod.key → sign-off

    @property
    def missing(self) -> int:
        return sum(each is None for each in self.signed.values())


def areas_below(user: User, sign: SignPeriod) -> tuple[list[SignPeriod], list[AreaRow]]:
    """For a city or a province period: the areas of the level below inside the user's area,
    each with its sign-off (or None) for each period below (two queries)."""
    below = periods_below(sign)
    level = LEVELS[below[0].period]
    regions = list(Region.objects.for_user(user).filter(level=level.region_level).order_by("code"))
    found = SignOff.objects.filter(
        region__in=regions, period=level.period, year__in={each.year for each in below}
    ).select_related("signed_by")
    by_key = {(each.region_id, each.year, each.number): each for each in found}
    rows = [
        AreaRow(
            region,
            {each.key: by_key.get((region.pk, each.year, each.number)) for each in below},
        )
        for region in regions
    ]
    return below, rows


@dataclass
class MonthStatus:
    period: periods.ReportPeriod
    total: int
    unsigned: list[School]


def county_reports(user: User, sign: SignPeriod) -> list[MonthStatus]:
    """For a county's quarter: its schools' monthly reports of the quarter's months, the
    schools not yet signed for each (a query per report period, at most three)."""
    schools = School.objects.for_user(user)
    total = schools.count()
    bimonthly = periods.is_bimonthly(periods.province_of(user.region.code))
    return [
        MonthStatus(
            period, total, list(unsigned_schools(schools, period).order_by("code").only("name"))
        )
        for period in report_periods(sign, bimonthly=bimonthly)
    ]


def sign_offs(user: User):
    """The sign-offs the user may see, latest first."""
    return SignOff.objects.for_user(user).select_related("region", "signed_by")


# --- the province's 双月报 switch ------------------------------------------------------------


def cadence_province(user: User, province: Region | None = None) -> Region:
    """The province whose cadence ``user`` sets: their own, or the one a system admin names."""
    if province is None:
        if user.region_id is None or user.region.level != RegionLevel.PROVINCE:
            raise AppError("请选择省份。", field="province")
        return user.region
    if province.level != RegionLevel.PROVINCE or not jurisdiction.contains(user, province):
        raise AppError("只能设置本省的报送周期。", field="province")
    return province


def set_cadence(
    *, by: User, bimonthly: bool, province: Region | None = None, today=None
) -> tuple[ReportCadence, str]:
    """Switch the province's 双月报 on or off (audited); returns it and what changes from
    which period."""
    permissions.require(by, CADENCE)
    today = today or timezone.localdate()
    province = cadence_province(by, province)
    current = ReportCadence.objects.filter(province=province).first()
    if (current is not None and current.bimonthly) == bimonthly:
        state = "双月报" if bimonthly else "月报"
        raise AppError(f"{province.name}已实行{state}，未作更改。", field="bimonthly")
    before = audit.snapshot(current) if current is not None else None
    with transaction.atomic():
        cadence, _ = ReportCadence.objects.update_or_create(
            province=province, defaults={"bimonthly": bimonthly, "changed_by": by}
        )
        audit.record_change(actor=by, instance=cadence, before=before)
    return cadence, change_text(province, bimonthly, today)


def change_text(province: Region, bimonthly: bool, today: datetime.date) -> str:
    period = periods.current_period(today, bimonthly=bimonthly)
    if bimonthly:
        return (
            f"{province.name}自{period.label}起实行双月报：各校每两个月报送一次"
            f"（2、4、6、8、10、12月），当期报表于{period.due_on:%Y年%m月%d日}前签发。"
        )
    return (
        f"{province.name}自{period.label}起恢复每月报送月报表，当月报表于"
        f"{period.due_on:%Y年%m月%d日}前签发。"
    )
