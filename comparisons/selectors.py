"""Reads of the comparisons' results, always through the jurisdiction filter: the runs, the
mismatches with the list's filters and their counts, and the 三统一 view (DOMAIN.md §5, 000).

Without a run named, the mismatches are the *current* ones: those of the latest finished run
of each county and kind of list (a later run replaces what an earlier one found)."""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.urls import reverse

from accounts import jurisdiction
from accounts.choices import RegionLevel
from accounts.models import Region
from kongchuo import crypto
from kongchuo.replicas import reading
from ledger import consistency
from ledger.choices import OPEN_STATES, ConsistencyProblem
from ledger.models import LedgerEntry
from students.choices import Status
from students.identity import normalise_id_number
from students.models import Student

from .choices import MismatchKind, RunStatus, SourceKind
from .models import Mismatch, Run, Source, SourceRow

# A mismatch's township: the responsible township, else its school's.
TOWNSHIP_OF = Coalesce("township_id", "school__township_id")


def latest_runs() -> QuerySet[Run]:
    """The latest finished run of each county and kind of list."""
    latest = (
        Run.objects.filter(county=OuterRef("county"), kind=OuterRef("kind"), status=RunStatus.DONE)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    return Run.objects.filter(status=RunStatus.DONE, pk=Subquery(latest))


def runs(user, *, kind: str = "", status: str = "") -> QuerySet[Run]:
    result = Run.objects.for_user(user).select_related("county", "source", "started_by")
    if kind:
        result = result.filter(kind=kind)
    if status:
        result = result.filter(status=status)
    return result.order_by("-created_at", "-id")


def mismatches(
    user,
    *,
    query: str = "",
    kind: str = "",
    county: int | None = None,
    township: int | None = None,
    school: int | None = None,
    strength: str = "",
    handled: bool | None = None,
    change: str = "",
    run: int | None = None,
) -> QuerySet[Mismatch]:
    """The mismatches of ``user``'s area — of ``run``, or else the current ones — narrowed by
    the list's search and filters; the pages, the export and the API share it. ``handled``:
    True the dealt-with ones, False the open ones, None both."""
    result = Mismatch.objects.for_user(user).select_related(
        "run", "township", "school__township", "student", "entry", "source_row", "handled__by"
    )
    result = result.filter(run_id=run) if run else result.filter(run__in=latest_runs())
    query = query.strip()
    if query:
        result = result.filter(
            Q(name__icontains=query) | Q(id_hash=crypto.match_hash(normalise_id_number(query)))
        )
    if kind:
        result = result.filter(kind=kind)
    if county:
        result = result.filter(county_id=county)
    if township:
        result = result.filter(Q(township_id=township) | Q(school__township_id=township))
    if school:
        result = result.filter(school_id=school)
    if strength:
        result = result.filter(strength=strength)
    if handled is not None:
        result = result.filter(handled__isnull=not handled)
    if change:
        result = result.filter(change=change)
    return result.order_by("kind", "township_id", "school_id", "name", "id")


# Mismatch.details keys the engine keeps for the follow-ups (services.correct_flag), not for
# reading.
_FOLLOW_UP_DETAILS = frozenset({"flags", "disability_type", "disability_grade"})


def shown_details(mismatch: Mismatch) -> list[tuple[str, str]]:
    """What disagrees, as the pages and the export show it: the engine's label → value."""
    return [
        (str(label), str(value))
        for label, value in (mismatch.details or {}).items()
        if label not in _FOLLOW_UP_DETAILS and not str(label).startswith("_")
    ]


def counts_by_kind(queryset: QuerySet[Mismatch]) -> list[tuple[str, str, int]]:
    """(kind, label, count) for every kind, zeros included, in the choices' order."""
    counts = dict(queryset.order_by().values_list("kind").annotate(n=Count("id")))
    return [(value, label, counts.get(value, 0)) for value, label in MismatchKind.choices]


def counts_by_township(queryset: QuerySet[Mismatch]) -> list[tuple[Region | None, int]]:
    """(township, count) for every township with mismatches, in code order; None: the ones
    assigned to no township (the county's own)."""
    rows = (
        queryset.order_by().annotate(place=TOWNSHIP_OF).values_list("place").annotate(n=Count("id"))
    )
    counts = dict(rows)
    places = Region.objects.in_bulk([pk for pk in counts if pk is not None])
    result = sorted(
        ((places[pk], n) for pk, n in counts.items() if pk is not None),
        key=lambda pair: pair[0].code,
    )
    if None in counts:
        result.append((None, counts[None]))
    return result


def open_counts(user) -> dict[str, int]:
    """The current open mismatches of ``user``'s area by kind, in one query."""
    return dict(
        mismatches(user, handled=False).order_by().values_list("kind").annotate(n=Count("id"))
    )


# -- 三统一 (DOMAIN.md §5, 000) ------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """One child the three sources disagree about, or a count of them, as a link."""

    label: str
    name: str
    url: str


@dataclass
class ThreeWayRow:
    township: Region
    ledger: int = 0  # open ledger entries the township is responsible for
    dropouts: int = 0  # students of the township's schools whose 学籍 says 辍学
    poverty: int = 0  # the latest poverty list's children with no 学籍 in the system
    disagreements: list[Disagreement] = field(default_factory=list)


@dataclass(frozen=True)
class ThreeWayTotals:
    """The 三统一 table's sums over its townships, and how many townships disagree."""

    ledger: int
    dropouts: int
    poverty: int
    disagreeing: int

    @classmethod
    def of(cls, rows: list[ThreeWayRow]) -> "ThreeWayTotals":
        return cls(
            ledger=sum(row.ledger for row in rows),
            dropouts=sum(row.dropouts for row in rows),
            poverty=sum(row.poverty for row in rows),
            disagreeing=sum(bool(row.disagreements) for row in rows),
        )


# The 人账相符 problems that are a disagreement between the ledger and education's dropouts.
_LEDGER_VS_XUEJI = {
    ConsistencyProblem.DROPOUT_WITHOUT_ENTRY: "学籍为辍学，台账无在册记录",
    ConsistencyProblem.ENTRY_BUT_ENROLLED: "台账为辍学，学籍不是辍学",
}


def _townships(user, county: Region | None) -> list[Region]:
    if user.school_id:
        return [user.school.township]
    townships = Region.objects.for_user(user).filter(level=RegionLevel.TOWNSHIP)
    if county is not None:
        townships = townships.filter(parent=county)
    return list(townships.order_by("code"))


def _latest_poverty_rows(sources: QuerySet[Source]) -> QuerySet[SourceRow]:
    """The rows of the latest poverty list of each county of ``sources`` whose child has no
    学籍 in the system, each with its township (``place``) from the row's 户籍地."""
    latest = (
        Source.objects.filter(county=OuterRef("county"), kind=SourceKind.POVERTY)
        .order_by("-uploaded_at", "-id")
        .values("pk")[:1]
    )
    sources = sources.filter(kind=SourceKind.POVERTY, pk=Subquery(latest))
    enrolled = Student.objects.filter(id_hash=OuterRef("id_hash"))
    return (
        SourceRow.objects.filter(source__in=sources)
        .filter(~Exists(enrolled))
        .annotate(
            place=Case(
                When(region__level=RegionLevel.TOWNSHIP, then=F("region_id")),
                default=F("region__parent_id"),
            )
        )
    )


def _grouped(queryset: QuerySet, path: str) -> dict[int, int]:
    return dict(queryset.order_by().values_list(path).annotate(n=Count("pk")))


@reading()
def three_way(user, *, county: Region | None = None) -> list[ThreeWayRow]:
    """Per township of ``user``'s area (of ``county`` only, when given: above a county the
    page asks for one), side by side: the ledger's open entries, the dropouts education
    reported (学籍 辍学), and the poverty office's children with no 学籍; and every
    disagreement between them as a link — to the child's record (学籍 and ledger disagree:
    ledger.consistency, the 人账相符 rule) or to the mismatch list of the poverty list's
    children not in the ledger (the comparison's finding)."""
    rows = {township.pk: ThreeWayRow(township) for township in _townships(user, county)}
    if not rows:
        return []

    def scoped(model) -> QuerySet:
        found = model.objects.for_user(user)
        return jurisdiction.within(county, found) if county is not None else found

    ledger = scoped(LedgerEntry).filter(state__in=OPEN_STATES, township__in=rows)
    for pk, n in _grouped(ledger, "township_id").items():
        rows[pk].ledger = n
    students = scoped(Student)
    dropouts = students.filter(status=Status.DROPPED_OUT, school__township__in=rows)
    for pk, n in _grouped(dropouts, "school__township_id").items():
        rows[pk].dropouts = n
    poverty = _latest_poverty_rows(scoped(Source)).filter(place__in=rows)
    for pk, n in _grouped(poverty, "place").items():
        rows[pk].poverty = n

    found = consistency.find(students, scoped(LedgerEntry))
    problems = [m for m in found if m.problem in _LEDGER_VS_XUEJI]
    student_places = dict(
        Student.objects.filter(
            pk__in=[m.student_id for m in problems if m.entry_id is None]
        ).values_list("pk", "school__township_id")
    )
    entry_places = dict(
        LedgerEntry.objects.filter(
            pk__in=[m.entry_id for m in problems if m.entry_id is not None]
        ).values_list("pk", "township_id")
    )
    for problem in problems:
        label = _LEDGER_VS_XUEJI[ConsistencyProblem(problem.problem)]
        if problem.entry_id is None:
            place = student_places.get(problem.student_id)
            url = reverse("student-detail", args=[problem.student_id])
        else:
            place = entry_places.get(problem.entry_id)
            url = reverse("ledger-detail", args=[problem.entry_id])
        if place in rows:
            rows[place].disagreements.append(Disagreement(label, problem.name, url))

    missing = mismatches(
        user,
        kind=MismatchKind.POVERTY_NOT_IN_LEDGER,
        handled=False,
        county=county.pk if county is not None else None,
    )
    for pk, n in _grouped(missing.annotate(place=TOWNSHIP_OF), "place").items():
        if pk in rows:
            query = urlencode(
                {
                    "kind": MismatchKind.POVERTY_NOT_IN_LEDGER.value,
                    "township": rows[pk].township.code,
                    "handled": "0",
                }
            )
            url = f"{reverse('comparisons-mismatches')}?{query}"
            rows[pk].disagreements.append(Disagreement("脱贫家庭失学儿童未入台账", f"{n}人", url))
    return list(rows.values())
