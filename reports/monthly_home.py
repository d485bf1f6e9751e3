"""The monthly report's home-page items (accounts.home): at a school, this period's reports
not yet signed — to fill (staff) or to sign (the principal; a 中心校's counts its attached
schools too); at the county and above, the schools that have not signed this period's
report (late once the 20th has come), per county above the county. One query each: the
province's cadence is looked up inside the count (selectors.unsigned_under_either_cadence)."""

import datetime

from django.db.models import Count
from django.urls import reverse

from accounts import home
from accounts.choices import Role
from accounts.models import School

from .periods import period_for, province_of
from .selectors import unsigned_under_either_cadence

# From this many days before the due day the school's item is shown as work waiting.
WARN_DAYS = 5
COUNTY_PATH = "township__parent_id"


def _province(where: home.Desk) -> str:
    # A school account's area carries its county's prefix; a region account has its region.
    prefix = where.area.prefix or (where.user.region.code if where.user.region_id else "")
    return province_of(prefix)


@home.register(40)
def monthly_items(where: home.Desk) -> list[home.Item]:
    if not (where.at_school or where.county or where.above_county):
        return []
    unsigned, bimonthly = unsigned_under_either_cadence(_province(where), where.day)
    counts = {"n": Count("pk", filter=unsigned), "bimonthly": Count("pk", filter=bimonthly)}
    schools = School.objects.for_user(where.user).order_by()
    if where.above_county:
        rows = list(schools.values(COUNTY_PATH).annotate(**counts))
        by_county = {row[COUNTY_PATH]: row["n"] for row in rows}
        total, is_bimonthly = sum(by_county.values()), any(row["bimonthly"] for row in rows)
    else:
        found = schools.aggregate(**counts)
        by_county, total, is_bimonthly = None, found["n"], bool(found["bimonthly"])
    period = period_for(where.day.year, where.day.month, bimonthly=is_bimonthly)
    overdue = where.day >= period.due_on
    due = f"{period.due_on:%m月%d日}"
    if where.at_school:
        principal = where.role == Role.PRINCIPAL
        return [
            home.Item(
                key="reports-monthly-school",
                label=f"{period.label}月报表{'待签发' if principal else '待填报'}",
                count=total,
                url=reverse("reports-monthly"),
                hint=f"已过{due}，签发将记为逾期" if overdue else f"请在{due}前由校长签发",
                alarming=where.day >= period.due_on - datetime.timedelta(days=WARN_DAYS),
            )
        ]
    return [
        home.Item(
            key="reports-monthly-unsigned",
            label=f"{period.label}月报表{'逾期' if overdue else ''}未签发的学校",
            count=total,
            by_county=by_county,
            url=f"{reverse('reports-monthly-county')}?state=unsigned",
            hint="请督促学校校长签发" if overdue else f"截止{due}",
            alarming=overdue,
        )
    ]
