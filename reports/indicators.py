"""The indicators of the dashboards (DOMAIN.md §8; issue 14 rule 3), pure computations by area.

Definitions (each is also written on the dashboard and in the README):

- 辍学率 (the 两基 definition): 学年内辍学学生总数 ÷ 上学年初在校学生数. A 辍学学生 is a child whose
  ledger entry (kind 辍学 or 疑似辍学) was confirmed as a dropout (已确认辍学) inside the period,
  each child once; the entry belongs to its school (else to its responsible township). The
  在校学生数 at the start of the school year (1 September) are the students whose last 学籍异动
  on or before that day left them 在读 or 送教上门 at a school of the area.
- 九年义务教育巩固率: 初中毕业班学生数 ÷ that cohort's 小学一年级 enrolment, adjusted for transfers:
  (毕业班学生数) ÷ (the cohort's 入学注册 in its first year + 转入 of the completers − 转出 and
  死亡 of the cohort during the nine years). Where the 学籍 history of the area does not reach
  back to the cohort's first year, the years missing are named instead of a figure.
- 小学净入学率: the primary-school-age children (the six youngest cohorts of
  ``comparisons.engine.school_age_births``, DOMAIN.md §3: 6 by 31 August) on the latest 户籍
  list (公安户籍适龄人口) of each county who are 在读 in grades 1–6 (by ID number, 学籍 being
  national), ÷ all of them. Without a 户籍 list the figure is not given.

Every figure reads through jurisdiction: the schools are ``School.objects.for_user``, the
ledger ``EntryEvent.objects.for_user``, the lists ``Source.objects.for_user``; 学籍 events are
read by the event's own school among those schools (a student who moved away still counts
where they were). A place outside the user's area is refused (``PlaceNotFound``, a 404).

Speed: the start-of-year 在校学生数 of a region on a day already past, and the day its 学籍
history starts, are kept in the cache for ``KEPT_SECONDS``, keyed by the region and the day
(only a back-dated 学籍异动 could change them; it counts once they expire, and the page says
when they were counted). The figures of one view are read with PostgreSQL's JIT off: the
planner's estimates of these aggregates cross ``jit_above_cost`` at province scale and
compiling them took longer than running them (1.7 s of JIT for a 1.5 s query).
"""

import datetime
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import PREFIX_LENGTH, RegionLevel
from accounts.models import Region, School, current_school_year, grade_label
from comparisons.choices import SourceKind
from comparisons.engine import school_age_births
from comparisons.models import Source, SourceRow
from kongchuo.errors import AppError
from kongchuo.replicas import read_connection, reading
from kongchuo.xlsx import workbook_bytes
from ledger.choices import Action, EntryKind, Reason, State
from ledger.models import EntryEvent
from students.choices import ENROLLED_STATUSES, EventKind, KeyGroup
from students.models import EnrollmentEvent, Student

# The targets the sources set (DOMAIN.md §8).
CONSOLIDATION_TARGETS = (
    ("001 贵州省 2020 年目标", 95.0),
    ("003 南涧县 2024 年目标", 98.5),
    ("004 江苏省 2020 年目标", 100.0),
)
ENROLMENT_TARGETS = (("003 南涧县 2024 年目标", 99.5),)

DEFINITIONS = {
    "dropout_rate": (
        "辍学率 = 学年内辍学学生总数 ÷ 上学年初在校学生数 × 100%（“两基”统计口径）。辍学学生：台账中"
        "于所选期间确认辍学（已确认辍学）的学生，每人只计一次；在校学生数：学年初（9月1日）学籍状态为"
        "在读或送教上门的学生。"
    ),
    "consolidation_rate": (
        "九年义务教育巩固率 = 初中毕业班学生数 ÷（该届学生小学一年级入学人数 + 转入 − 转出 − 死亡）"
        " × 100%（DOMAIN.md §8；目标见 001、003、004）。系统中没有该届学生历年学籍记录时，列出缺少的学年，"
        "不给出数字。"
    ),
    "enrolment_rate": (
        "小学净入学率 = 小学学龄人口中在读小学的人数 ÷ 小学学龄人口 × 100%。学龄人口取各县最新上传的"
        "公安户籍适龄人口名单中8月31日前满6周岁、未超过小学六个年龄组的儿童（DOMAIN.md §3）；"
        "按身份证号与学籍对照。没有户籍名单时不计算（目标见 003）。"
    ),
}

TERMS = {"autumn": "秋季学期（9月—次年1月）", "spring": "春季学期（2月—8月）"}
DROPOUT_KINDS = (EntryKind.DROPOUT, EntryKind.SUSPECTED)
SCHOOL_RANKING_SIZE = 20
KEPT_SECONDS = 300  # how long a past day's counts are kept (see the module's docstring)
_COUNTY = PREFIX_LENGTH[RegionLevel.COUNTY]


class PlaceNotFound(Http404):
    """The area asked for is missing or outside the user's: the same answer for both."""


@dataclass(frozen=True)
class Place:
    """The area the figures are for: a region (province … township) or one school."""

    name: str
    prefix: str = ""
    region: Region | None = None
    school: School | None = None

    @property
    def level(self) -> int:
        return self.region.level if self.region else RegionLevel.VILLAGE

    @property
    def code(self) -> str:
        return self.school.code if self.school else self.region.code


@dataclass(frozen=True)
class Period:
    """A school year (by its first year), or one term or one month of it."""

    school_year: int
    term: str = ""
    month: int | None = None

    @property
    def year_start(self) -> datetime.date:
        return datetime.date(self.school_year, 9, 1)

    @property
    def span(self) -> tuple[datetime.date, datetime.date]:
        """First and last day of the period."""
        year = self.school_year
        if self.month:
            calendar_year = year if self.month >= 9 else year + 1
            first = datetime.date(calendar_year, self.month, 1)
            following = datetime.date(calendar_year + self.month // 12, self.month % 12 + 1, 1)
            return first, following - datetime.timedelta(days=1)
        if self.term == "autumn":
            return datetime.date(year, 9, 1), datetime.date(year + 1, 1, 31)
        if self.term == "spring":
            return datetime.date(year + 1, 2, 1), datetime.date(year + 1, 8, 31)
        return datetime.date(year, 9, 1), datetime.date(year + 1, 8, 31)

    @property
    def label(self) -> str:
        base = f"{self.school_year}—{self.school_year + 1}学年"
        if self.month:
            first, _ = self.span
            return f"{base} {first.year}年{self.month}月"
        return f"{base} {TERMS[self.term]}" if self.term else base

    def months(self) -> list[datetime.date]:
        first, last = self.span
        months, day = [], first
        while day <= last:
            months.append(day)
            day = datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return months


@dataclass
class Rate:
    """An indicator: a figure, or the reason there is none (``missing``)."""

    numerator: int = 0
    denominator: int = 0
    missing: str = ""
    note: str = ""

    @property
    def percent(self) -> float | None:
        if self.missing or not self.denominator:
            return None
        return round(100 * self.numerator / self.denominator, 2)

    def as_dict(self) -> dict:
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "percent": self.percent,
            "missing": self.missing,
            "note": self.note,
        }


@dataclass
class RankRow:
    code: str
    name: str
    dropouts: int
    enrolled: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.dropouts / self.enrolled, 2) if self.enrolled else None


@dataclass
class Indicators:
    place: Place
    period: Period
    dropout_rate: Rate
    consolidation_rate: Rate
    enrolment_rate: Rate
    by_month: list[tuple[str, int]]
    by_reason: list[tuple[str, int]]
    by_key_group: list[tuple[str, int]]
    by_grade: list[tuple[str, int]]
    by_area: list[tuple[str, int]]
    ranking: list[RankRow]
    ranking_label: str
    school_ranking: list[RankRow]
    county_ranking: list[RankRow] = field(default_factory=list)
    own_rank: tuple[int, int, str] | None = None  # (rank, of how many, among what)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The figures as JSON: the API's answer and the charts' data."""
        rank = lambda rows: [  # noqa: E731 - a local shape, used twice
            {**vars(row), "percent": row.percent} for row in rows
        ]
        return {
            "place": {"code": self.place.code, "name": self.place.name},
            "period": {
                "school_year": self.period.school_year,
                "term": self.period.term,
                "month": self.period.month,
                "label": self.period.label,
            },
            "definitions": DEFINITIONS,
            "dropout_rate": self.dropout_rate.as_dict(),
            "consolidation_rate": {
                **self.consolidation_rate.as_dict(),
                "targets": [{"source": s, "percent": p} for s, p in CONSOLIDATION_TARGETS],
            },
            "enrolment_rate": {
                **self.enrolment_rate.as_dict(),
                "targets": [{"source": s, "percent": p} for s, p in ENROLMENT_TARGETS],
            },
            "counts": {
                name: [{"label": label, "count": count} for label, count in rows]
                for name, rows in self.tables().items()
            },
            "ranking": {"label": self.ranking_label, "rows": rank(self.ranking)},
            "school_ranking": rank(self.school_ranking),
            "county_ranking": rank(self.county_ranking),
            "own_rank": (
                {"rank": self.own_rank[0], "of": self.own_rank[1], "among": self.own_rank[2]}
                if self.own_rank
                else None
            ),
        }

    def tables(self) -> dict[str, list[tuple[str, int]]]:
        return {
            "by_month": self.by_month,
            "by_reason": self.by_reason,
            "by_key_group": self.by_key_group,
            "by_grade": self.by_grade,
            "by_area": self.by_area,
        }


# -- the place and the period -------------------------------------------------------------------


def home_place(user) -> Place:
    """The user's own area: their region (a village cadre's township) or their school."""
    area = jurisdiction.area_of(user)
    if area.kind in (jurisdiction.SCHOOL, jurisdiction.CLASS):
        return Place(user.school.name, school=user.school)
    if area.kind == jurisdiction.REGION:
        region = Region.objects.get(code__startswith=area.prefix, level=_level_of(area.prefix))
        return Place(region.name, prefix=region.prefix, region=region)
    if area.kind == jurisdiction.ALL:
        province = Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code").first()
        if province is not None:
            return Place(province.name, prefix=province.prefix, region=province)
    raise PlaceNotFound("您的账号没有可查看的区域。")


def _level_of(prefix: str) -> int:
    return next(level for level, length in PREFIX_LENGTH.items() if length == len(prefix))


def resolve_place(user, *, area: str = "", school: str = "") -> Place:
    """The place of the filters (a region code or a school code) inside ``user``'s area;
    nothing given: the user's own. Outside the area or unknown: ``PlaceNotFound``."""
    if school:
        found = School.objects.for_user(user).filter(code=school).first()
        if found is None:
            raise PlaceNotFound("未找到该学校，或该学校不在您的管辖范围内。")
        return Place(found.name, school=found)
    if area:
        kind = jurisdiction.area_of(user).kind
        # School accounts see the county's divisions as reference data, not its figures.
        region = (
            None
            if kind in (jurisdiction.SCHOOL, jurisdiction.CLASS)
            else Region.objects.for_user(user)
            .filter(code=area, level__lte=RegionLevel.TOWNSHIP)
            .first()
        )
        if region is None:
            raise PlaceNotFound("未找到该区域，或该区域不在您的管辖范围内。")
        return Place(region.name, prefix=region.prefix, region=region)
    return home_place(user)


def period_of(school_year: int | None, term: str = "", month: int | None = None) -> Period:
    """The period of the filters; a school year not yet begun, or a bad term or month, is
    refused with the field named."""
    current = current_school_year()
    year = current if school_year is None else school_year
    if not 2000 <= year <= current:
        raise AppError(f"学年应在 2000 至 {current} 之间（学年开始的年份）。", field="school_year")
    if term and term not in TERMS:
        raise AppError("学期应为 autumn（秋季学期）或 spring（春季学期）。", field="term")
    if month is not None and not 1 <= month <= 12:
        raise AppError("月份应在 1 至 12 之间。", field="month")
    if month and term:
        raise AppError("学期和月份只能选择其中一个。", field="month")
    return Period(year, term, month)


# -- reads --------------------------------------------------------------------------------------


def place_schools(user, place: Place) -> QuerySet[School]:
    schools = School.objects.for_user(user)
    if place.school:
        return schools.filter(pk=place.school.pk)
    return schools.filter(township__code__startswith=place.prefix)


def _in_place(place: Place, prefix: str = "entry__") -> Q:
    if place.school:
        return Q(**{f"{prefix}school": place.school})
    return Q(**{f"{prefix}school__township__code__startswith": place.prefix}) | Q(
        **{f"{prefix}school__isnull": True, f"{prefix}township__code__startswith": place.prefix}
    )


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def confirmations(queryset: QuerySet[EntryEvent], period: Period) -> QuerySet[EntryEvent]:
    """The first confirmation as a dropout of each entry (a 辍学 entry is confirmed on
    creation, a 疑似辍学 one by 确认辍学) inside ``period``."""
    first, last = period.span
    return queryset.filter(
        action__in=(Action.CREATE, Action.CONFIRM),
        state_after=State.CONFIRMED,
        entry__kind__in=DROPOUT_KINDS,
        at__gte=_aware(first),
        at__lt=_aware(last + datetime.timedelta(days=1)),
    )


CONFIRMED_FIELDS = (
    "entry_id", "entry__student_id", "entry__school_id", "entry__township__code",
    "entry__reason", "entry__grade", "entry__key_groups", "at",
)  # fmt: skip


def confirmed_rows(confirmed: QuerySet[EntryEvent]) -> list[dict]:
    """The confirmations with what they are counted by, in one query: every count is taken
    from these rows (a province holds some 15,000 a year), not by a grouped query each."""
    return list(confirmed.values(*CONFIRMED_FIELDS).order_by())


def _child(row: dict) -> int:
    """One child once: the entry's student, or the entry itself when it has none."""
    student = row["entry__student_id"]
    return -row["entry_id"] if student is None else student


def _tally(rows: Iterable[dict], keys: Callable[[dict], Iterable]) -> dict:
    """Children (each once) per key; ``keys`` gives a row's keys (several for key groups)."""
    children: dict = defaultdict(set)
    for row in rows:
        for key in keys(row):
            children[key].add(_child(row))
    return {key: len(found) for key, found in children.items()}


def enrolled_at(schools: QuerySet[School], day: datetime.date) -> dict[int, int]:
    """在校学生数 on ``day`` by school: students whose last 学籍异动 on or before it, at one of
    ``schools``, left them 在读 or 送教上门.

    One statement: the last event per student (DISTINCT ON, one sort) counted by school. The
    ORM's form of it (``id IN`` the DISTINCT ON ids) joined the million ids back to the table
    and took several times as long at province scale. The schools' subquery goes in without
    their default ordering: an ORDER BY inside ``IN (…)`` turned a city's plan from an index
    probe per school (25 ms) into a scan of every event in the province (100 ms)."""
    school_sql, school_params = schools.values("pk").order_by().query.sql_with_params()
    table = EnrollmentEvent._meta.db_table
    sql = f"""
        SELECT school_id, count(*) FROM (
            SELECT DISTINCT ON (student_id) school_id, status_after FROM {table}
            WHERE date <= %s AND school_id IN ({school_sql})
            ORDER BY student_id, date DESC, id DESC
        ) latest WHERE status_after = ANY(%s) GROUP BY school_id
    """  # noqa: S608 - the table name and the compiled queryset, values as parameters
    with read_connection().cursor() as cursor:
        cursor.execute(sql, [day, *school_params, sorted(ENROLLED_STATUSES)])
        return dict(cursor.fetchall())


def _kept(key: str, compute: Callable[[], object]) -> tuple[object, datetime.datetime]:
    """``compute()`` and when it was computed, kept under ``key`` for ``KEPT_SECONDS``."""
    found = cache.get(key)
    if found is None:
        found = (compute(), timezone.now())
        cache.set(key, found, KEPT_SECONDS)
    return found


def region_enrolled_at(
    region: Region, day: datetime.date
) -> tuple[dict[int, int], datetime.datetime | None]:
    """``enrolled_at`` for every school of ``region`` and when it was counted: kept, keyed by
    the region and the day, once the day is past (None: counted now, the day is today or
    later). Callers take their own schools' counts out of it."""

    def count() -> dict[int, int]:
        return enrolled_at(jurisdiction.within(region, School.objects.all()), day)

    if day >= timezone.localdate():
        return count(), None
    return _kept(f"indicators:enrolled:{region.code}:{day.isoformat()}", count)


def history_start(schools: QuerySet[School]) -> datetime.date | None:
    """The day of the first 学籍异动 the system holds for ``schools``."""
    return EnrollmentEvent.objects.filter(school__in=schools).aggregate(first=Min("date"))["first"]


def place_history_start(user, place: Place) -> datetime.date | None:
    """``history_start`` of the place's schools; a region's is kept (keyed by the region) once
    found. A school's, or a region without any 学籍 yet, is read each time."""
    if place.school:
        return history_start(place_schools(user, place))
    key = f"indicators:history:{place.region.code}"
    found = cache.get(key)
    if found is None:
        found = history_start(jurisdiction.within(place.region, School.objects.all()))
        if found is not None:
            cache.set(key, found, KEPT_SECONDS)
    return found


@contextmanager
def _planned() -> Iterator[None]:
    """The view's queries without PostgreSQL's JIT (see the module's docstring)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def _years(first: int, last: int) -> str:
    return f"{first}学年" if first == last else f"{first}—{last}学年"


# -- indicators ---------------------------------------------------------------------------------


def dropout_rate(
    dropouts: int,
    enrolled: int,
    start: datetime.date | None,
    period: Period,
    counted_at: datetime.datetime | None = None,
) -> Rate:
    """辍学率 from the counts; no 学籍 at the year's start: the year is named, no figure.
    ``counted_at``: when the kept start-of-year count was counted (None: now)."""
    if start is None or start > period.year_start:
        return Rate(
            dropouts,
            enrolled,
            missing=f"系统中没有 {period.school_year} 学年初（{period.year_start:%Y年%m月%d日}）的"
            "学籍记录，暂不能计算辍学率。",
        )
    note = ""
    if counted_at is not None:
        note = (
            f"学年初在校学生数统计于 {timezone.localtime(counted_at):%Y年%m月%d日 %H:%M}，"
            f"保留 {KEPT_SECONDS // 60} 分钟；此后补登的学籍异动在重新统计时计入。"
        )
    return Rate(dropouts, enrolled, note=note)


def consolidation_rate(
    schools: QuerySet[School], school_year: int, start: datetime.date | None
) -> Rate:
    """九年义务教育巩固率 of the cohort finishing grade 9 in ``school_year``."""
    first_year = school_year - 8
    held_from = current_school_year(start) if start else school_year + 1
    if held_from > first_year:
        missing = _years(first_year, min(held_from - 1, school_year))
        return Rate(
            missing=f"系统中缺少该届学生 {missing} 的学籍记录（该届于 {first_year} 学年入小学一年级），"
            "暂不能计算巩固率。"
        )
    window = (datetime.date(first_year, 9, 1), datetime.date(school_year + 1, 8, 31))
    events = EnrollmentEvent.objects.filter(school__in=schools)
    intake = events.filter(
        kind=EventKind.ENROL,
        date__range=(datetime.date(first_year, 9, 1), datetime.date(first_year + 1, 8, 31)),
    ).values("student_id")
    finished = events.filter(
        kind=EventKind.GRADUATE,
        date__range=(datetime.date(school_year, 9, 1), datetime.date(school_year + 1, 8, 31)),
    ).values("student_id")
    # The completers: that year's 毕业 and, in the year under way, the 初三 on the roll today
    # (graduated students are not 在读, so the two never overlap). Two EXISTS, not one OR:
    # an OR over the student table is read whole.
    on_roll = Student.objects.none()
    if school_year == current_school_year():
        on_roll = Student.objects.filter(school__in=schools, grade=9, status__in=ENROLLED_STATUSES)

    def completer(ref: OuterRef) -> Q:
        return Q(Exists(finished.filter(student_id=ref))) | Q(Exists(on_roll.filter(pk=ref)))

    moved_in = (
        events.filter(kind=EventKind.TRANSFER_IN, date__range=window)
        .filter(completer(OuterRef("student_id")))
        .exclude(student__in=intake)
    )
    left = events.filter(
        kind__in=(EventKind.TRANSFER_OUT, EventKind.DEATH), date__range=window, student__in=intake
    ).exclude(completer(OuterRef("student_id")))
    base = (
        intake.distinct().count()
        + moved_in.values("student_id").distinct().count()
        - left.values("student_id").distinct().count()
    )
    return Rate(finished.distinct().count() + on_roll.count(), base)


def primary_births(school_year: int) -> tuple[datetime.date, datetime.date]:
    """Birth dates of primary-school age in ``school_year``: the six youngest of the nine
    cohorts of compulsory school age (DOMAIN.md §3)."""
    _, youngest = school_age_births(school_year)
    return datetime.date(youngest.year - 6, 9, 1), youngest


def enrolment_rate(user, place: Place, school_year: int) -> Rate:
    """小学净入学率 from the latest 户籍 list of each county of the place."""
    if place.school:
        return Rate(missing="小学净入学率按户籍适龄人口统计，只按县、乡镇计算，不按学校计算。")
    counties = Region.objects.for_user(user).filter(level=RegionLevel.COUNTY)
    counties = counties.filter(code__startswith=place.prefix[:_COUNTY])
    latest = (
        Source.objects.for_user(user)
        .filter(kind=SourceKind.HOUSEHOLD, county__in=counties)
        .order_by("county_id", "-uploaded_at", "-id")
        .distinct("county_id")
    )
    listed = {source.county_id: source.pk for source in latest.only("pk", "county_id")}
    without = [county.name for county in counties if county.pk not in listed]
    if not listed:
        return Rate(
            missing="尚未上传公安户籍适龄人口名单（数据比对 → 上传名单），没有学龄人口数，"
            "暂不能计算小学净入学率。"
        )
    rows = SourceRow.objects.filter(
        source_id__in=listed.values(), birth_date__range=primary_births(school_year)
    )
    if place.level > RegionLevel.COUNTY:
        rows = rows.filter(region__code__startswith=place.prefix)
    # EXISTS in WHERE, a semi-join the planner chooses by size: an index probe per row for a
    # county's few thousand, one hash of the students for the province's 800,000 (inside
    # COUNT(… FILTER) it was a probe per row at every size: 1.5 s for the province).
    at_school = Student.objects.filter(
        id_hash=OuterRef("id_hash"), status__in=ENROLLED_STATUSES, grade__lte=6
    )
    enrolled = rows.filter(Exists(at_school)).count()
    note = f"以下县尚未上传户籍名单，未计入：{'、'.join(without)}。" if without else ""
    return Rate(enrolled, rows.count(), note=note)


# -- counts and rankings ------------------------------------------------------------------------


def _labelled(counts: dict, labels: Iterable[tuple]) -> list[tuple[str, int]]:
    return [(label, counts.get(value, 0)) for value, label in labels]


def _child_level(place: Place) -> int:
    return min(place.level + 1, RegionLevel.TOWNSHIP)


def _rank(rows: list[RankRow]) -> list[RankRow]:
    return sorted(rows, key=lambda row: (-(row.percent or 0), -row.dropouts, row.code))


def _units(
    schools: list[dict], by_school: Counter, by_township: Counter, enrolled: dict, length: int
) -> dict[str, list[int]]:
    """[dropouts, enrolled] per region prefix of ``length`` digits."""
    units: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for school in schools:
        unit = units[school["township__code"][:length]]
        unit[0] += by_school.get(school["id"], 0)
        unit[1] += enrolled.get(school["id"], 0)
    for code, count in by_township.items():
        units[code[:length]][0] += count
    return units


def _place_counts(rows: list[dict]) -> tuple[Counter, Counter]:
    """Dropouts by school id, and by responsible township code for the entries without a
    school (``confirmed_rows``)."""
    by_school = _tally(
        (row for row in rows if row["entry__school_id"] is not None),
        lambda row: (row["entry__school_id"],),
    )
    by_township = _tally(
        (row for row in rows if row["entry__school_id"] is None),
        lambda row: (row["entry__township__code"],),
    )
    return Counter(by_school), Counter(by_township)


def _parent(place: Place) -> Region | None:
    """The region a place is ranked in (a township in its county); None for a school or
    the province."""
    if place.school or place.region.parent_id is None:
        return None
    return place.region.parent


def own_rank(place: Place, period: Period, enrolled: dict[int, int]) -> tuple[int, int, str] | None:
    """The place's rank by dropout rate among its parent's children (a township in its
    county), highest rate first; ``enrolled``: the parent's schools' start-of-year counts.
    Only the rank is told, never the others' figures."""
    parent = _parent(place)
    if parent is None:
        return None
    schools = jurisdiction.within(parent, School.objects.all())
    confirmed = confirmations(jurisdiction.within(parent, EntryEvent.objects.all()), period)
    by_school, by_township = _place_counts(confirmed_rows(confirmed))
    listing = list(schools.values("id", "township__code"))
    length = PREFIX_LENGTH[place.level]
    units = _units(listing, by_school, by_township, enrolled, length)
    siblings = Region.objects.filter(parent=parent).values_list("code", flat=True)
    rows = _rank(
        [RankRow(code[:length], "", *units.get(code[:length], (0, 0))) for code in siblings]
    )
    codes = [row.code for row in rows]
    if place.prefix not in codes:
        return None
    among = f"{parent.name}各{place.region.get_level_display()}"
    return codes.index(place.prefix) + 1, len(codes), among


def _region_ranking(
    user, place: Place, level: int, listing, by_school, by_township, enrolled
) -> list[RankRow]:
    """The regions of ``level`` inside the place, by dropout rate."""
    length = PREFIX_LENGTH[level]
    units = _units(listing, by_school, by_township, enrolled, length)
    children = Region.objects.for_user(user).filter(level=level, code__startswith=place.prefix)
    names = {region.prefix: region.name for region in children.only("code", "name", "level")}
    return _rank([RankRow(code, names[code], *units.get(code, (0, 0))) for code in names])


@reading()
def indicators(user, place: Place, period: Period) -> Indicators:
    """Every figure of the dashboard for ``place`` and ``period``, as ``user`` may see them.
    A constant number of queries, whatever the number of schools."""
    with _planned():
        return _indicators(user, place, period)


def _indicators(user, place: Place, period: Period) -> Indicators:
    schools = place_schools(user, place)
    start = place_history_start(user, place)
    confirmed = confirmations(EntryEvent.objects.for_user(user).filter(_in_place(place)), period)
    rows = confirmed_rows(confirmed)
    by_school, by_township = _place_counts(rows)
    parent = _parent(place)
    # The parent's counts serve the place's own rank too; the place's are among them.
    area = parent or place.region
    if area is None:
        counted, counted_at = enrolled_at(schools, period.year_start), None
    else:
        counted, counted_at = region_enrolled_at(area, period.year_start)
    listing = list(schools.values("id", "code", "name", "township__code"))
    enrolled = {school["id"]: counted.get(school["id"], 0) for school in listing}
    total_dropouts = len({_child(row) for row in rows})
    months = _tally(rows, lambda row: (timezone.localtime(row["at"]).date().replace(day=1),))
    reasons = _tally(rows, lambda row: (row["entry__reason"],))
    grades = _tally(rows, lambda row: (row["entry__grade"],))
    groups = _tally(rows, lambda row: row["entry__key_groups"] or ())

    counts = (listing, by_school, by_township, enrolled)
    ranking, ranking_label, by_area, county_ranking = [], "", [], []
    if place.school is None:
        level = _child_level(place)
        ranking = _region_ranking(user, place, level, *counts)
        ranking_label = f"各{RegionLevel(level).label}辍学率排名"
        by_area = [(row.name, row.dropouts) for row in sorted(ranking, key=lambda r: r.code)]
    if place.level < RegionLevel.CITY:
        # The province ranks its counties too (001: the ten with the highest rate).
        county_ranking = _region_ranking(user, place, RegionLevel.COUNTY, *counts)
    school_rows = _rank(
        [
            RankRow(school["code"], school["name"], by_school.get(school["id"], 0),
                    enrolled.get(school["id"], 0))
            for school in listing
        ]
    )  # fmt: skip
    if place.school:
        by_area = [(row.name, row.dropouts) for row in school_rows]

    return Indicators(
        place=place,
        period=period,
        dropout_rate=dropout_rate(
            total_dropouts, sum(enrolled.values()), start, period, counted_at
        ),
        consolidation_rate=consolidation_rate(schools, period.school_year, start),
        enrolment_rate=enrolment_rate(user, place, period.school_year),
        by_month=[
            (f"{month.year}年{month.month}月", months.get(month, 0)) for month in period.months()
        ],
        by_reason=_labelled(reasons, Reason.choices),
        by_key_group=[(group.label, groups.get(group.value, 0)) for group in KeyGroup],
        by_grade=[(grade_label(grade), grades.get(grade, 0)) for grade in range(1, 10)],
        by_area=by_area,
        ranking=ranking,
        ranking_label=ranking_label,
        school_ranking=school_rows[:SCHOOL_RANKING_SIZE],
        county_ranking=county_ranking,
        own_rank=own_rank(place, period, counted),
    )


# -- downloads ----------------------------------------------------------------------------------

TABLES = {
    "rates": "指标",
    "by_month": "按月份辍学人数",
    "by_reason": "按辍学原因",
    "by_key_group": "按重点群体",
    "by_grade": "按年级",
    "by_area": "按区域",
    "ranking": "辍学率排名",
    "school_ranking": "学校辍学率排名",
    "county_ranking": "各县辍学率排名",
}


RANKINGS = ("ranking", "school_ranking", "county_ranking")


def _shown(rate: Rate) -> str:
    if rate.percent is None:
        return rate.missing or "—"
    return f"{rate.percent}%"


def table(result: Indicators, name: str) -> tuple[list[str], list[list]]:
    """One of the dashboard's tables (``TABLES``) as headings and rows: the chart's data, the
    page's table and the download are the same rows."""
    if name == "rates":
        targets = "；".join(f"{source} {p}%" for source, p in CONSOLIDATION_TARGETS)
        rows = [
            ["辍学率", result.dropout_rate, "—", DEFINITIONS["dropout_rate"]],
            ["九年义务教育巩固率", result.consolidation_rate, targets,
             DEFINITIONS["consolidation_rate"]],
            ["小学净入学率", result.enrolment_rate,
             "；".join(f"{source} {p}%" for source, p in ENROLMENT_TARGETS),
             DEFINITIONS["enrolment_rate"]],
        ]  # fmt: skip
        return ["指标", "分子", "分母", "数值", "目标", "口径"], [
            [label, rate.numerator, rate.denominator, _shown(rate), target, text]
            for label, rate, target, text in rows
        ]
    if name in RANKINGS:
        rows = getattr(result, name)
        return ["名次", "代码", "名称", "辍学人数", "学年初在校学生数", "辍学率（%）"], [
            [rank, row.code, row.name, row.dropouts, row.enrolled, row.percent]
            for rank, row in enumerate(rows, start=1)
        ]
    if name not in result.tables():
        raise Http404("没有这张表。")
    return [TABLES[name].removeprefix("按"), "辍学人数"], [
        [label, count] for label, count in result.tables()[name]
    ]


def export(*, by, result: Indicators, name: str) -> tuple[bytes, str]:
    """One table as an XLSX workbook and its file name, logged as an export."""
    headings, rows = table(result, name)
    title = f"{result.place.name}{TABLES[name]}"
    codes = (1,) if name in RANKINGS else ()
    content, count = workbook_bytes(TABLES[name], headings, rows, text_columns=codes)
    place = result.place
    region_code = place.school.township.code if place.school else place.region.code
    audit.record_export(
        actor=by, what=f"{title}（{result.period.label}）", rows=count, region_code=region_code
    )
    return content, f"indicators-{result.place.code}-{name}-{result.period.school_year}.xlsx"
