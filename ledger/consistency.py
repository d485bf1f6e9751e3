"""人账相符 (DOMAIN.md §5): the ledger and 学籍 must tell the same story. The check lists
every child whose 学籍 status and ledger state disagree, and every open entry that is not a
real out-of-school child. The county page, the management command and the nightly task all
call it; the first for a user's area, the others county by county."""

from dataclasses import asdict, dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts import jurisdiction
from accounts.choices import RegionLevel
from accounts.models import Region
from students.choices import ENROLLED_STATUSES, Status
from students.models import Student

from .choices import OPEN_STATES, ClosureReason, ConsistencyProblem, EntryKind, State
from .models import ConsistencyRun, LedgerEntry

_DROPOUT_STATES = (State.CONFIRMED, State.PERSUADING)
_GONE = (Status.DECEASED, Status.GRADUATED, Status.TRANSFERRED_OUT)


@dataclass(frozen=True)
class Mismatch:
    problem: str
    name: str
    school: str
    student_id: int | None
    entry_id: int | None

    @property
    def label(self) -> str:
        return ConsistencyProblem(self.problem).label


def _from_entries(problem: ConsistencyProblem, entries: QuerySet[LedgerEntry]) -> list[Mismatch]:
    rows = entries.values_list("pk", "student_id", "name", "school__name")
    return [
        Mismatch(problem, name, school or "", student_id, pk)
        for pk, student_id, name, school in rows
    ]


def find(students: QuerySet[Student], entries: QuerySet[LedgerEntry]) -> list[Mismatch]:
    """The mismatches among ``students`` and ``entries`` (both already scoped)."""
    open_entry = LedgerEntry.objects.filter(student=OuterRef("pk"), state__in=OPEN_STATES)
    # A child closed as having completed compulsory education or turned 16 may keep a
    # 辍学 学籍; the ledger no longer follows them.
    aged_out = LedgerEntry.objects.filter(
        student=OuterRef("pk"), state=State.CLOSED, closure_reason=ClosureReason.COMPLETED
    )
    dropped = (
        students.filter(status=Status.DROPPED_OUT)
        .filter(~Exists(open_entry), ~Exists(aged_out))
        .values_list("pk", "name", "school__name")
    )
    found = [
        Mismatch(ConsistencyProblem.DROPOUT_WITHOUT_ENTRY, name, school, pk, None)
        for pk, name, school in dropped
    ]
    with_student = entries.filter(student__isnull=False)
    found += _from_entries(
        ConsistencyProblem.ENTRY_BUT_ENROLLED,
        with_student.filter(state__in=_DROPOUT_STATES).exclude(
            student__status__in=(Status.DROPPED_OUT, *_GONE)
        ),
    )
    found += _from_entries(
        ConsistencyProblem.RETURNED_NOT_ENROLLED,
        with_student.filter(state=State.RETURNED).exclude(
            student__status__in=(*ENROLLED_STATUSES, *_GONE)
        ),
    )
    found += _from_entries(
        ConsistencyProblem.NO_REAL_CHILD,
        with_student.filter(state__in=OPEN_STATES, student__status__in=_GONE),
    )
    enrolled = Student.objects.filter(id_number=OuterRef("id_number"), status__in=ENROLLED_STATUSES)
    found += _from_entries(
        ConsistencyProblem.NOT_ENROLLED_BUT_ENROLLED,
        entries.filter(
            Q(kind=EntryKind.NOT_ENROLLED, student=None, state__in=OPEN_STATES)
            & ~Q(id_number="")
            & Exists(enrolled)
        ),
    )
    return found


def for_user(user) -> list[Mismatch]:
    return find(Student.objects.for_user(user), LedgerEntry.objects.for_user(user))


def check_county(county: Region) -> ConsistencyRun:
    """Run the check for one county and keep the result for its staff to see."""
    found = find(
        jurisdiction.within(county, Student.objects.all()),
        jurisdiction.within(county, LedgerEntry.objects.all()),
    )
    return ConsistencyRun.objects.create(
        county=county, problem_count=len(found), problems=[asdict(m) for m in found]
    )


def check_all() -> list[ConsistencyRun]:
    return [
        check_county(county)
        for county in Region.objects.filter(level=RegionLevel.COUNTY).order_by("code")
    ]
