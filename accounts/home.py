"""The home page's to-do list: what waits for the user today, as counts that link to the list
that shows them. Each app registers the items it knows about (attendance: rolls not taken;
the ledger: entries waiting; students: transfers to accept), in its ``ready()``, so that this
module, low in the layering, never imports them; later apps (劝返 cases, comparisons, reports)
add theirs the same way.

Above the county (a city or a province) every item is also counted per county, in one grouped
query each; those counts span thousands of schools, so they are kept for
``HOME_CACHE_SECONDS`` (the page says when they were counted). A county and below always see
live counts: they act on them.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.utils import timezone

from . import jurisdiction
from .choices import SCHOOL_ROLES, RegionLevel, Role
from .models import Region, User


@dataclass(frozen=True)
class Line:
    """One row under an item: a class teacher's class with its roll, say."""

    label: str
    url: str
    status: str
    done: bool
    key: str = ""


@dataclass
class Item:
    """One kind of waiting work. ``count`` is what waits in the user's area; ``by_county``
    the same per county (region id), filled above the county. ``url`` opens the list of it;
    ``county_param`` names the list's county filter, when the list has one."""

    key: str
    label: str
    count: int
    url: str = ""
    hint: str = ""
    lines: list[Line] = field(default_factory=list)
    by_county: dict[int, int] | None = None
    county_param: str = ""
    county_by_pk: bool = False  # the list's county filter takes the id, not the code
    # A count that is not work waiting (the latest check's findings are, the day's rolls
    # submitted are not) is shown without the warning colour.
    alarming: bool = True

    @property
    def urgent(self) -> bool:
        return self.alarming and self.count > 0

    def county_url(self, county: Region) -> str:
        if not self.url or not self.county_param:
            return ""
        join = "&" if "?" in self.url else "?"
        value = county.pk if self.county_by_pk else county.code
        return f"{self.url}{join}{urlencode({self.county_param: value})}"


@dataclass(frozen=True)
class Desk:
    """Who is asking and for which day, with what the sections need to decide what to count."""

    user: User
    day: datetime.date
    area: jurisdiction.Area
    counties: tuple[Region, ...]  # above the county: the counties of the area, else empty

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def at_school(self) -> bool:
        return self.role in SCHOOL_ROLES - {Role.CLASS_TEACHER}

    @property
    def teacher(self) -> bool:
        return self.role == Role.CLASS_TEACHER

    @property
    def township(self) -> bool:
        return self.role in {Role.TOWNSHIP_OFFICIAL, Role.VILLAGE_CADRE}

    @property
    def county(self) -> bool:
        return self.role in {Role.COUNTY_STAFF, Role.COUNTY_ADMIN}

    @property
    def above_county(self) -> bool:
        return bool(self.counties)


Section = Callable[[Desk], Iterable[Item]]
_SECTIONS: list[tuple[int, Section]] = []


def register(order: int) -> Callable[[Section], Section]:
    """Add a section of items; lower ``order`` comes first on the page."""

    def add(section: Section) -> Section:
        _SECTIONS.append((order, section))
        _SECTIONS.sort(key=lambda pair: pair[0])
        return section

    return add


def above_county(user: User) -> bool:
    """Whether ``user``'s area spans several counties (a city, a province, the whole system)."""
    kind = jurisdiction.area_of(user).kind
    if kind == jurisdiction.ALL:
        return True
    return kind == jurisdiction.REGION and user.region.level < RegionLevel.COUNTY


def counties_of(user: User) -> tuple[Region, ...]:
    """The counties of an area above the county, in code order; empty for a county or below."""
    if not above_county(user):
        return ()
    return tuple(Region.objects.for_user(user).filter(level=RegionLevel.COUNTY).order_by("code"))


def desk(user: User, day: datetime.date) -> Desk:
    return Desk(user=user, day=day, area=jurisdiction.area_of(user), counties=counties_of(user))


def work(where: Desk) -> list[Item]:
    """Every registered section's items for ``where``, in order."""
    return [item for _, section in _SECTIONS for item in section(where)]


def today_work(where: Desk) -> tuple[list[Item], datetime.datetime | None]:
    """``work(where)``, and above the county when it was counted (kept for a while, shared by
    the accounts of the same region and role); None: counted now."""
    if not where.above_county:
        return work(where), None
    key = f"home:{where.role}:{where.user.region_id}:{where.day.isoformat()}"
    found = cache.get(key)
    if found is None:
        found = (work(where), timezone.now())
        cache.set(key, found, settings.HOME_CACHE_SECONDS)
    return found


def per_county(queryset: QuerySet, county_path: str) -> dict[int, int]:
    """Count ``queryset`` grouped by the county id found at ``county_path``, in one query."""
    rows = queryset.order_by().values(county_path).annotate(n=Count("pk"))
    return {row[county_path]: row["n"] for row in rows if row[county_path] is not None}


def counted(where: Desk, queryset: QuerySet, county_path: str, **item) -> Item:
    """An item counting ``queryset``: per county above the county (the total is their sum),
    else one COUNT."""
    if where.above_county:
        by_county = per_county(queryset, county_path)
        return Item(count=sum(by_county.values()), by_county=by_county, **item)
    return Item(count=queryset.count(), **item)


@dataclass(frozen=True)
class Cell:
    label: str
    count: int
    url: str
    urgent: bool


def county_rows(counties: Iterable[Region], items: list[Item]) -> list[tuple[Region, list[Cell]]]:
    """The per-county table above the county: a row per county, a cell per counted item."""
    columns = [item for item in items if item.by_county is not None]
    rows = []
    for county in counties:
        cells = []
        for item in columns:
            count = item.by_county.get(county.pk, 0)
            cells.append(
                Cell(item.label, count, item.county_url(county), item.alarming and count > 0)
            )
        rows.append((county, cells))
    return rows
