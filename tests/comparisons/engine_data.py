"""Students, ledger entries and roll calls written directly for the engine's tests (the
services that make them are tested in their own apps), and a run of a list done at once."""

import datetime
import itertools

from accounts.models import Region, School, SchoolClass, User
from attendance.models import AttendanceMark, RollCall
from comparisons import engine
from comparisons.models import Run, Source, SourceRow
from ledger.choices import EntryKind, Reason, State, Whereabouts
from ledger.choices import Source as EntrySource
from ledger.models import LedgerEntry
from students.choices import Status
from students.models import Guardian, Student
from tests.comparisons.results import COUNTY_A, first_school, make_row
from tests.students.factories import id_number

BIRTH = datetime.date(2016, 3, 14)  # grade 4 in the school year 2026
_serial = itertools.count(1)


def school(code: str = COUNTY_A, index: int = 0) -> School:
    schools = School.objects.filter(township__code__startswith=code).order_by("code")
    return schools[index] if index else first_school(code)


def student(
    at: School | None = None,
    *,
    name: str = "李小明",
    birth: datetime.date = BIRTH,
    with_id: bool = True,
    status: str = Status.ENROLLED,
    klass: SchoolClass | None = None,
    hukou: Region | None = None,
    guardian: str = "李大山",
    **fields,
) -> Student:
    at = at or first_school()
    hukou = hukou or Region.objects.get(pk=at.township_id)
    child = Student.objects.create(
        name=name,
        gender="M",
        birth_date=birth,
        id_number=id_number(birth, "M", hukou.code[:6]) if with_id else None,
        hukou_region=hukou,
        school=at,
        klass=klass,
        grade=4,
        status=status,
        **fields,
    )
    if guardian:
        Guardian.objects.create(student=child, name=guardian, relation="父亲")
    return child


def entry(child: Student | None = None, *, state: str = State.CONFIRMED, **fields) -> LedgerEntry:
    """An entry of ``child`` (or of a child with no record: give name, id_number…)."""
    today = datetime.date.today()
    values = {
        "kind": EntryKind.DROPOUT if child is not None else EntryKind.NOT_ENROLLED,
        "source": EntrySource.SCHOOL_REPORT,
        "state": state,
        "name": child.name if child else "无名",
        "gender": "M",
        "birth_date": child.birth_date if child else BIRTH,
        "id_number": (child.id_number or "") if child else "",
        "school": child.school if child else None,
        "township": child.school.township if child else first_school().township,
        "reason": Reason.LEARNING,
        "whereabouts": Whereabouts.AT_HOME,
        "found_on": today,
        "reviewed_on": today,
        "student": child,
    }
    values.update(fields)
    return LedgerEntry.objects.create(**values)


def row_of(source: Source, child: Student, **fields) -> SourceRow:
    """The list's row for ``child``: the same ID number, name and birth date."""
    values = {
        "id_number": child.id_number or "",
        "name": child.name,
        "birth": child.birth_date,
        "region": child.hukou_region,
        "guardian": "",
    }
    values.update(fields)
    return make_row(source, **values)


def rolls(klass: SchoolClass, days: int, absent: dict[Student, str]) -> list[RollCall]:
    """``days`` school days of roll calls of ``klass`` up to yesterday, with ``absent``
    students marked (status) on each."""
    teacher = User.objects.filter(school=klass.school).first()
    made = []
    day = datetime.date.today()
    while len(made) < days:
        day -= datetime.timedelta(days=1)
        if day.weekday() >= 5:
            continue
        roll = RollCall.objects.create(
            klass=klass, school=klass.school, date=day, submitted_by=teacher, changed_by=teacher
        )
        for child, status in absent.items():
            AttendanceMark.objects.create(roll=roll, student=child, date=day, status=status)
        made.append(roll)
    return made


def run_of(source: Source) -> Run:
    """A run of ``source``, done now (as the worker does it)."""
    run = Run.objects.create(county=source.county, kind=source.kind, source=source)
    return engine.compare(run)


def serial() -> int:
    return next(_serial)
