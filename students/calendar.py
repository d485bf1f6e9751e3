"""The school calendar (DOMAIN.md §4): which days a school is in session.

A *school day* is a day that lies inside a term of the school's effective calendar and is
either a weekday that is not a holiday or a make-up working day (调休上班) on a weekend.

The effective calendar of a school is its county's default with the school's own rows laid
over it:

- terms: a school term replaces every county term it overlaps (a school that sets its own
  autumn term keeps the county's spring term until it sets that one too);
- special days: the school's row for a date replaces the county's row for the same date.

Reads: ``calendar_for(school)`` and ``calendars_for(schools)`` build ``Calendar`` objects
from a constant number of queries; every question after that is answered in memory.
``term_calendars()`` holds the terms (not the days) of every calendar, from one query (with
``on``: only those a question about that day needs).
Writes: ``term_save``, ``term_delete``, ``day_set``, ``day_clear`` — the owner is a county
(a county-level Region, the default calendar) or a school (its override).
"""

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts import audit, jurisdiction
from accounts.choices import AuditAction, Capability, RegionLevel
from accounts.models import Region, School, User
from accounts.permissions import refusal, require
from kongchuo.errors import AppError

from .models import CalendarDay, DayKind, Term
from .permissions import CALENDAR_EDIT

Owner = Region | School
_ONE_DAY = datetime.timedelta(days=1)


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """One school's (or one county's) effective calendar, held in memory."""

    terms: tuple[Term, ...] = ()  # ascending by start, never overlapping
    days: dict[datetime.date, str] = field(default_factory=dict)  # date → DayKind value

    def __post_init__(self):
        object.__setattr__(self, "_starts", [term.start for term in self.terms])

    @property
    def term_starts(self) -> list[datetime.date]:
        """The first day of every term, ascending (the week after is the 开学 check)."""
        return list(self._starts)

    def term_of(self, day: datetime.date) -> Term | None:
        """The term ``day`` lies in, or None (weekends inside a term still belong to it)."""
        index = bisect.bisect_right(self._starts, day) - 1
        if index >= 0 and day <= self.terms[index].end:
            return self.terms[index]
        return None

    def latest_term(self, day: datetime.date) -> Term | None:
        """The latest term that started on or before ``day``: the term a day belongs to for
        the ledger's classification, so a break belongs to the term before it. None before
        the first term."""
        index = bisect.bisect_right(self._starts, day) - 1
        return self.terms[index] if index >= 0 else None

    def next_start(self, term: Term) -> datetime.date | None:
        """The first day of the term after ``term``, or None when none is set yet."""
        return self._next_term_start(term.start)

    def is_school_day(self, day: datetime.date) -> bool:
        if self.term_of(day) is None:
            return False
        kind = self.days.get(day)
        if kind == DayKind.WORKDAY:
            return True
        return day.weekday() < 5 and kind != DayKind.HOLIDAY

    def school_days(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        """Every school day from ``start`` to ``end`` inclusive, ascending."""
        result = []
        day = start
        while day <= end:
            term = self.term_of(day)
            if term is None:
                day = self._next_term_start(day)
                if day is None:
                    break
                continue
            stop = min(term.end, end)
            while day <= stop:
                if self.is_school_day(day):
                    result.append(day)
                day += _ONE_DAY
        return result

    def previous_school_days(
        self, day: datetime.date, n: int, *, including: bool = False
    ) -> list[datetime.date]:
        """The ``n`` school days before ``day`` (with ``day`` itself when ``including`` and it
        is one), ascending. Fewer when the calendar has fewer before it."""
        result: list[datetime.date] = []
        current = day if including else day - _ONE_DAY
        while len(result) < n:
            term = self.term_of(current)
            if term is None:
                current = self._previous_term_end(current)
                if current is None:
                    break
                continue
            if self.is_school_day(current):
                result.append(current)
            current -= _ONE_DAY
        result.reverse()
        return result

    def _next_term_start(self, day: datetime.date) -> datetime.date | None:
        index = bisect.bisect_right(self._starts, day)
        return self._starts[index] if index < len(self._starts) else None

    def _previous_term_end(self, day: datetime.date) -> datetime.date | None:
        ends = [term.end for term in self.terms if term.end < day]
        return max(ends) if ends else None


def _overlaps(a: Term, b: Term) -> bool:
    return a.start <= b.end and b.start <= a.end


def _merge(county: Calendar, own_terms: list[Term], own_days: dict) -> Calendar:
    if not own_terms and not own_days:
        return county
    kept = [t for t in county.terms if not any(_overlaps(t, own) for own in own_terms)]
    terms = tuple(sorted([*kept, *own_terms], key=lambda t: (t.start, t.pk or 0)))
    return Calendar(terms=terms, days={**county.days, **own_days})


def calendars_for(schools: Iterable[School | int]) -> dict[int, Calendar]:
    """``{school_id: Calendar}`` for many schools in three queries, whatever their number
    (the nightly scan builds every school's calendar at once). Schools without rows of their
    own share their county's Calendar object."""
    ids = {school if isinstance(school, int) else school.pk for school in schools}
    if not ids:
        return {}
    county_of = dict(School.objects.filter(pk__in=ids).values_list("pk", "township__parent_id"))
    counties = set(county_of.values())
    terms = defaultdict(list)
    days = defaultdict(dict)
    owner_rows = Term.objects.filter(county_id__in=counties) | Term.objects.filter(
        school_id__in=ids
    )
    for term in owner_rows.order_by("start", "pk"):
        terms[("s", term.school_id) if term.school_id else ("c", term.county_id)].append(term)
    day_rows = CalendarDay.objects.filter(county_id__in=counties) | CalendarDay.objects.filter(
        school_id__in=ids
    )
    for row in day_rows.values_list("county_id", "school_id", "date", "kind"):
        county_id, school_id, date, kind = row
        days[("s", school_id) if school_id else ("c", county_id)][date] = kind
    county_calendars = {
        county: Calendar(terms=tuple(terms[("c", county)]), days=days[("c", county)])
        for county in counties
    }
    return {
        school_id: _merge(
            county_calendars[county_id],
            terms.get(("s", school_id), []),
            days.get(("s", school_id), {}),
        )
        for school_id, county_id in county_of.items()
    }


def in_session(schools: QuerySet[School], day: datetime.date) -> QuerySet[School]:
    """Those of ``schools`` for which ``day`` is a school day. Decided once per calendar —
    each county's default, and each school with rows of its own — and then in SQL, so that
    a province's fifteen thousand schools are never listed one by one (a few small queries
    whatever their number)."""
    counties = set(schools.order_by().values_list("township__parent_id", flat=True).distinct())
    # Whether a day is a school day needs only the term it lies in and its own special day.
    terms = defaultdict(list)
    for term in Term.objects.filter(county_id__in=counties, start__lte=day, end__gte=day):
        terms[term.county_id].append(term)
    days = defaultdict(dict)
    for county_id, kind in CalendarDay.objects.filter(county_id__in=counties, date=day).values_list(
        "county_id", "kind"
    ):
        days[county_id][day] = kind
    open_counties = [
        county
        for county in counties
        if Calendar(terms=tuple(terms[county]), days=days[county]).is_school_day(day)
    ]
    own = set(Term.objects.filter(school__in=schools).values_list("school_id", flat=True))
    own |= set(CalendarDay.objects.filter(school__in=schools).values_list("school_id", flat=True))
    own_open = {pk for pk, cal in calendars_for(own).items() if cal.is_school_day(day)}
    by_county = Q(township__parent_id__in=open_counties) & ~Q(pk__in=own - own_open)
    return schools.filter(by_county | Q(pk__in=own_open))


@dataclass(frozen=True)
class TermCalendars:
    """The terms of every calendar at once, without the special days: each county's default
    and, for each school with terms of its own, its effective terms (see ``_merge``). For
    questions about many schools' terms at province scale (the ledger's 学期分类复核)."""

    counties: dict[int, Calendar]  # county id → its default calendar; counties with terms
    schools: dict[int, tuple[int, Calendar]]  # school with own terms → (county id, calendar)

    def of(self, *, county_id: int | None, school_id: int | None = None) -> Calendar:
        """The effective calendar of ``school_id`` in ``county_id``, or without a school the
        county's default."""
        if school_id is not None and school_id in self.schools:
            return self.schools[school_id][1]
        return self.counties.get(county_id, _NO_TERMS)


_NO_TERMS = Calendar()


def term_calendars(*, on: datetime.date | None = None) -> TermCalendars:
    """The terms of every calendar in one query: the counties' defaults and the schools that
    override them. With ``on``, only the terms that answer ``latest_term(on)`` and the start
    of the term after it: each owner's two latest terms started by then (a school's own
    later term may replace the county's latest, see ``_merge``) and those after — a few per
    calendar, however many years the calendars hold; ask such calendars about ``on`` alone.
    """
    county_terms = defaultdict(list)
    school_terms = defaultdict(list)
    county_of_school = {}
    # A subquery rather than a join: most terms are counties', and the join would read every
    # school of the province to find the county of a handful.
    school_county = School.objects.filter(pk=OuterRef("school_id")).order_by()
    rows = Term.objects.annotate(
        school_county=Subquery(school_county.values("township__parent_id"))
    )
    if on is not None:
        rows = rows.filter(
            Q(school__isnull=True, start__gte=_recent_floor("county", on))
            | Q(school__isnull=False, start__gte=_recent_floor("school", on))
        )
    for term in rows.order_by("start", "pk"):
        if term.school_id:
            school_terms[term.school_id].append(term)
            county_of_school[term.school_id] = term.school_county
        else:
            county_terms[term.county_id].append(term)
    counties = {county: Calendar(terms=tuple(terms)) for county, terms in county_terms.items()}
    schools = {
        school: (
            county_of_school[school],
            _merge(counties.get(county_of_school[school], _NO_TERMS), terms, {}),
        )
        for school, terms in school_terms.items()
    }
    return TermCalendars(counties=counties, schools=schools)


def _recent_floor(owner: str, on: datetime.date) -> Coalesce:
    """The start of the second-latest term of the row's ``owner`` ("county" or "school")
    started by ``on``; the earliest date when it has fewer than two."""
    same_owner = Term.objects.filter(**{owner: OuterRef(owner), "start__lte": on})
    second = Subquery(same_owner.order_by("-start").values("start")[1:2])
    return Coalesce(second, Value(datetime.date.min, output_field=DateField()))


def calendar_for(school: School | int) -> Calendar:
    """One school's effective calendar (three queries)."""
    school_id = school if isinstance(school, int) else school.pk
    return calendars_for([school_id]).get(school_id, Calendar())


def county_calendar(county: Region) -> Calendar:
    """A county's default calendar, as a school without overrides sees it."""
    return Calendar(
        terms=tuple(Term.objects.filter(county=county).order_by("start", "pk")),
        days=dict(CalendarDay.objects.filter(county=county).values_list("date", "kind")),
    )


def county_of(owner: Owner) -> Region:
    return owner.township.parent if isinstance(owner, School) else owner


def calendar_owner(user) -> Owner | None:
    """The calendar a user works with: their school's, or their county's default. None for
    accounts attached to neither (townships, villages, supervisors above the county)."""
    if user.school_id:
        return user.school
    region = user.region if user.region_id else None
    if region is not None and region.level == RegionLevel.COUNTY:
        return region
    return None


def calendar_rows(owner: Owner) -> tuple[list[Term], list[CalendarDay]]:
    """The rows that make ``owner``'s effective calendar: the county's and, for a school, the
    school's own, ordered by date, each marked ``replaced`` when the school's own overrides it. Read through the owner, not the user's area, because a
    school account reads its county's default without seeing other schools' overrides."""
    county = county_of(owner)
    terms = Term.objects.filter(county=county)
    days = CalendarDay.objects.filter(county=county)
    if isinstance(owner, School):
        terms = terms | Term.objects.filter(school=owner)
        days = days | CalendarDay.objects.filter(school=owner)
    related = ("county", "school")
    terms = list(terms.select_related(*related).order_by("start", "pk"))
    days = list(days.select_related(*related).order_by("date", "pk"))
    # ``replaced``: a county row that the school's own rows override (see _merge).
    own_terms = [t for t in terms if t.school_id]
    own_dates = {d.date for d in days if d.school_id}
    for term in terms:
        term.replaced = not term.school_id and any(_overlaps(term, own) for own in own_terms)
    for day in days:
        day.replaced = not day.school_id and day.date in own_dates
    return terms, days


# --- writing --------------------------------------------------------------------------------


def _require_editable(by: User, owner: Owner) -> None:
    require(by, Capability.MANAGE_CALENDAR)
    if isinstance(owner, Region) and owner.level != RegionLevel.COUNTY:
        raise AppError("默认校历只能由县设定。", field="owner")
    if not jurisdiction.contains(by, owner):
        # The same answer as for a missing unit: nothing is said about other areas.
        raise AppError("未找到该单位。", field="owner")
    reason = refusal(by, CALENDAR_EDIT, owner)
    if reason is not None:
        raise AppError(reason, field="owner")


def _owner_fields(owner: Owner) -> dict:
    if isinstance(owner, School):
        return {"school": owner, "county": None}
    return {"county": owner, "school": None}


def _clean_save(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise AppError.from_validation(exc) from None
    instance.save()


def _record_delete(by: User, instance, detail: str) -> None:
    audit.record(
        actor=by,
        action=AuditAction.DELETE,
        obj=instance,
        changes=audit.diff(audit.snapshot(instance), None),
        detail=detail,
    )


@transaction.atomic
def term_save(
    *,
    by: User,
    owner: Owner,
    name: str,
    start: datetime.date,
    end: datetime.date,
    term: Term | None = None,
) -> Term:
    """Create a term for ``owner``, or change ``term`` (which must belong to ``owner``)."""
    _require_editable(by, owner)
    name = name.strip()
    if not name:
        raise AppError("请填写学期名称。", field="name")
    if end < start:
        raise AppError("学期结束日期不能早于开学日期。", field="end")
    if term is not None and term.owner != owner:
        raise AppError("该学期不属于所选校历。")
    # Lock the owner so that two concurrent saves cannot both pass the overlap check.
    type(owner)._default_manager.select_for_update().filter(pk=owner.pk).first()
    owner_fields = _owner_fields(owner)
    same_owner = Term.objects.filter(**owner_fields)
    if term is not None:
        same_owner = same_owner.exclude(pk=term.pk)
    clash = same_owner.filter(start__lte=end, end__gte=start).order_by("start").first()
    if clash is not None:
        raise AppError(
            f"与学期“{clash.name}”（{clash.start:%Y-%m-%d}至{clash.end:%Y-%m-%d}）时间重叠。",
            field="start",
        )
    before = audit.snapshot(term) if term is not None else None
    term = term or Term(**owner_fields)
    term.name, term.start, term.end = name, start, end
    _clean_save(term)
    audit.record_change(actor=by, instance=term, before=before)
    return term


@transaction.atomic
def term_delete(*, by: User, term: Term) -> None:
    _require_editable(by, term.owner)
    _record_delete(by, term, f"删除学期：{term.name}")
    term.delete()


def _check_day(owner: Owner, date: datetime.date, kind: str) -> None:
    """A special day must change something: a holiday falls on a day that would otherwise be
    worked, a make-up day on one that would otherwise be free. For a school, "otherwise" is
    its county's calendar, so a school may cancel a county holiday or make-up day."""
    if kind not in DayKind.values:
        raise AppError("请选择放假或调休上班。", field="kind")
    usual = DayKind.WORKDAY if date.weekday() < 5 else DayKind.HOLIDAY
    if isinstance(owner, School):
        county_row = CalendarDay.objects.filter(county=county_of(owner), date=date).first()
        if county_row is not None:
            usual = county_row.kind
    if kind == usual == DayKind.WORKDAY:
        raise AppError(f"{date:%Y-%m-%d}本来就上课，无需设为调休上班。", field="date")
    if kind == usual == DayKind.HOLIDAY:
        raise AppError(f"{date:%Y-%m-%d}本来就不上课，无需设为放假。", field="date")


@transaction.atomic
def day_set(
    *, by: User, owner: Owner, date: datetime.date, kind: str, note: str = ""
) -> CalendarDay:
    """Mark ``date`` as a holiday or a make-up working day in ``owner``'s calendar (a second
    call for the same date changes the row)."""
    _require_editable(by, owner)
    _check_day(owner, date, kind)
    owner_fields = _owner_fields(owner)
    day = CalendarDay.objects.select_for_update().filter(**owner_fields, date=date).first()
    before = audit.snapshot(day) if day is not None else None
    day = day or CalendarDay(**owner_fields, date=date)
    day.kind, day.note = kind, note.strip()
    _clean_save(day)
    audit.record_change(actor=by, instance=day, before=before)
    return day


# A longer break is the gap between two terms, not a holiday.
MAX_HOLIDAY_DAYS = 31


@transaction.atomic
def holiday_set(
    *, by: User, owner: Owner, start: datetime.date, end: datetime.date, note: str = ""
) -> list[CalendarDay]:
    """Mark every weekday from ``start`` to ``end`` as a holiday (国庆节 10-01..10-07); the
    weekends inside need no row."""
    if end < start:
        raise AppError("假期结束日期不能早于开始日期。", field="end")
    if (end - start).days + 1 > MAX_HOLIDAY_DAYS:
        raise AppError(
            f"假期不能超过{MAX_HOLIDAY_DAYS}天；寒暑假请通过学期起止日期设定。", field="end"
        )
    weekdays = [
        start + datetime.timedelta(days=i)
        for i in range((end - start).days + 1)
        if (start + datetime.timedelta(days=i)).weekday() < 5
    ]
    if not weekdays:
        raise AppError("所选日期都是周末，本来就不上课，无需设为放假。", field="start")
    return [
        day_set(by=by, owner=owner, date=day, kind=DayKind.HOLIDAY, note=note) for day in weekdays
    ]


def days_set(
    *,
    by: User,
    owner: Owner,
    kind: str,
    start: datetime.date,
    end: datetime.date | None = None,
    note: str = "",
) -> list[CalendarDay]:
    """One special day, or a holiday from ``start`` to ``end``; make-up working days are set
    one by one."""
    if end is None or end == start:
        return [day_set(by=by, owner=owner, date=start, kind=kind, note=note)]
    if kind != DayKind.HOLIDAY:
        raise AppError("调休上班请逐日设定。", field="end")
    return holiday_set(by=by, owner=owner, start=start, end=end, note=note)


@transaction.atomic
def day_clear(*, by: User, owner: Owner, date: datetime.date) -> bool:
    """Remove ``owner``'s special day on ``date`` (a school falls back to the county's).
    Whether there was one."""
    _require_editable(by, owner)
    day = CalendarDay.objects.filter(**_owner_fields(owner), date=date).first()
    if day is None:
        return False
    _record_delete(by, day, f"删除校历特殊日：{day}")
    day.delete()
    return True


# --- demo -----------------------------------------------------------------------------------


@transaction.atomic
def default_terms(county: Region, school_year: int) -> list[Term]:
    """The county's default calendar for the school year starting in ``school_year``: the
    autumn and spring terms and the 国庆 holiday. Idempotent; for the demo seed (no actor,
    so no capability check)."""
    terms = []
    for name, start, end in (
        (
            f"{school_year}-{school_year + 1}学年第一学期",
            datetime.date(school_year, 9, 1),
            datetime.date(school_year + 1, 1, 20),
        ),
        (
            f"{school_year}-{school_year + 1}学年第二学期",
            datetime.date(school_year + 1, 3, 1),
            datetime.date(school_year + 1, 7, 10),
        ),
    ):
        term, _ = Term.objects.get_or_create(
            county=county, start=start, defaults={"name": name, "end": end}
        )
        terms.append(term)
    day = datetime.date(school_year, 10, 1)
    while day <= datetime.date(school_year, 10, 7):
        if day.weekday() < 5:
            CalendarDay.objects.get_or_create(
                county=county, date=day, defaults={"kind": DayKind.HOLIDAY, "note": "国庆节"}
            )
        day += _ONE_DAY
    return terms
