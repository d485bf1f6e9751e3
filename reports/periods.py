"""The reporting calendar of the 月报表 (DOMAIN.md §8): one report per school per month, due
before the 20th (002), or one every two months — February, April, … December — where the
province has switched on the 双月报 (004). A report's ``month`` is the period's last month;
its rows are the ledger as it stands on the report date."""

import calendar
import datetime
from dataclasses import dataclass

from accounts.models import Region, School

from .models import ReportCadence

DUE_DAY = 20  # "每月20日前报送": signing on this day or later is late.


@dataclass(frozen=True)
class ReportPeriod:
    year: int
    month: int  # the period's last month
    months: int  # 1, or 2 under a 双月报

    @property
    def due_on(self) -> datetime.date:
        return datetime.date(self.year, self.month, DUE_DAY)

    @property
    def first_day(self) -> datetime.date:
        first = self.month - self.months + 1
        return datetime.date(self.year, first, 1)

    @property
    def last_day(self) -> datetime.date:
        return month_end(self.year, self.month)

    @property
    def label(self) -> str:
        if self.months == 2:
            return f"{self.year}年{self.month - 1}—{self.month}月"
        return f"{self.year}年{self.month}月"

    def is_late(self, signed_on: datetime.date) -> bool:
        return signed_on >= self.due_on


def month_end(year: int, month: int) -> datetime.date:
    """The last day of ``month`` of ``year``."""
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def province_of(code: str) -> str:
    """The code of the province a region code (or code prefix) lies in: its first two digits."""
    return code[:2] + "0000"


def province_code(school: School) -> str:
    """The code of the province a school is in (a region code's first two digits)."""
    return province_of(school.township.code)


def is_bimonthly(province: Region | str) -> bool:
    code = province if isinstance(province, str) else province.code
    return ReportCadence.objects.filter(province__code=code, bimonthly=True).exists()


def period_for(year: int, month: int, *, bimonthly: bool) -> ReportPeriod:
    """The report period that ``month`` of ``year`` belongs to."""
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} out of range")
    if bimonthly:
        return ReportPeriod(year, month + month % 2, 2)
    return ReportPeriod(year, month, 1)


def current_period(today: datetime.date, *, bimonthly: bool) -> ReportPeriod:
    """The report being filled in on ``today``: this month's (or this two months')."""
    return period_for(today.year, today.month, bimonthly=bimonthly)


def is_future(period: ReportPeriod, today: datetime.date) -> bool:
    """A report may be opened from the first day of its period, never before."""
    return period.first_day > today


def period_of_school(school: School, year: int, month: int) -> ReportPeriod:
    """The period ``month`` of ``year`` belongs to under the school's province's cadence."""
    return period_for(year, month, bimonthly=is_bimonthly(province_code(school)))


def period_of_report(report) -> ReportPeriod:
    """The period a MonthlyReport covers, as it was opened (a later switch of the cadence
    does not change a report already made)."""
    return ReportPeriod(report.year, report.month, report.months)


def user_period(user, year: int, month: int) -> ReportPeriod:
    """The period of the user's province's cadence that ``month`` of ``year`` belongs to (a
    school account's province is its school's; a system administrator's is monthly)."""
    if user.school_id:
        code = province_code(user.school)
    elif user.region_id:
        code = province_of(user.region.code)
    else:
        return period_for(year, month, bimonthly=False)
    return period_for(year, month, bimonthly=is_bimonthly(code))
