"""The sign-offs' home-page items (accounts.home): a county, city or province account sees its
level's 四个一 sign-off waiting (open and not signed, or late); a city or a province also the
areas of the level below that have not signed their latest ended period. One query: the
areas below come from the desk's counties (a province's cities are its counties' parents)."""

from django.urls import reverse

from accounts import home

from . import cadence
from .choices import Period


@home.register(60)
def sign_off_items(where: home.Desk) -> list[home.Item]:
    level = cadence.level_of(where.user)
    if level is None:
        return []
    if level.period == Period.TERM:
        below_ids = {county.pk for county in where.counties}
    else:
        below_ids = {county.parent_id for county in where.counties}
    own, ended, missing = cadence.waiting(where.user, where.day, below_ids)
    url = reverse("report-sign-offs")
    items = [
        home.Item(
            key="sign-off-due",
            label=f"本级{Period(level.period).label}审核待签发",
            count=len(own),
            hint="、".join(f"{due.sign.label}{'（已逾期）' if due.late else ''}" for due in own)
            or "本级审核均已签发",
            url=url,
        )
    ]
    if ended is not None:
        items.append(
            home.Item(
                key="sign-off-below",
                label=f"下级{ended.label}审核未签发",
                count=missing,
                hint=f"应于{ended.last_day:%Y年%m月%d日}前签发，请督促",
                url=f"{url}?year={ended.year}&number={ended.number}",
            )
        )
    return items
