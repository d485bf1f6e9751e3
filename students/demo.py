"""Demo students at any scale: valid unique ID numbers, realistic names, grades by age,
guardians and key-group rates. Deterministic from the seed; memory stays flat (batches).

On PostgreSQL the rows go in with COPY (a million students in a few minutes, for the
benchmarks); elsewhere with bulk_create. Both write the same rows."""

import datetime
import random
from collections import defaultdict
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import ric

from accounts.choices import RegionLevel
from accounts.demo import GIVEN, SURNAMES
from accounts.models import Region, SchoolClass, User, current_school_year

from .choices import EventKind, KeyGroup, Status
from .imports import copy_objects, reserve_ids
from .models import EnrollmentEvent, Guardian, Student

BATCH = 5000
# Rows per COPY on PostgreSQL: bigger batches, fewer round trips.
COPY_BATCH = 50_000
# Rough shares of each key group among rural pupils in the source counties.
KEY_GROUP_RATES = {
    KeyGroup.POVERTY_REGISTERED: 0.08,
    KeyGroup.RELAPSE_MONITORED: 0.02,
    KeyGroup.LOW_INCOME: 0.03,
    KeyGroup.LEFT_BEHIND: 0.15,
    KeyGroup.MIGRANT: 0.03,
    KeyGroup.DISABLED: 0.01,
    KeyGroup.LEARNING_DIFFICULTY: 0.04,
    KeyGroup.FINANCIAL_HARDSHIP: 0.05,
    KeyGroup.PARENT_IN_PRISON: 0.003,
    KeyGroup.ORPHAN: 0.003,
}
ETHNICITIES = ["汉族"] * 6 + ["彝族"] * 3 + ["白族", "回族", "傣族", "哈尼族"]


class _Numbers:
    """Unique ID numbers: a per-(area, birth date) sequence with the sex in its parity."""

    def __init__(self):
        self.used: dict[tuple[str, datetime.date], int] = defaultdict(int)

    def make(self, area: str, birth: datetime.date, gender: str) -> str:
        key = (area, birth)
        n = self.used[key]
        self.used[key] = n + 1
        sequence = n * 2 + (1 if gender == "M" else 0)
        if sequence > 999:
            raise ValueError("too many children born on one day in one county for unique numbers")
        body = f"{area}{birth:%Y%m%d}{sequence:03d}"
        return body + ric.calc_check_digit(body + "0")  # it ignores the last character


def _birth_date(rng: random.Random, school_year: int, grade: int) -> datetime.date:
    """6 by 31 August when entering grade 1 (DOMAIN.md §3), so born Sept..Aug of that year."""
    start = datetime.date(school_year - grade - 6, 9, 1)
    return start + datetime.timedelta(days=rng.randrange(365))


def _students(total: int, seed: int):
    rng = random.Random(seed)  # noqa: S311 — deterministic demo data, not secrets
    year = current_school_year()
    classes = list(
        SchoolClass.objects.filter(school_year=year)
        .select_related("school__township")
        .order_by("id")
    )
    if not classes:
        raise ValueError("no classes for the current school year: generate the county first")
    villages = defaultdict(list)
    for village in Region.objects.filter(level=RegionLevel.VILLAGE).only("id", "parent_id"):
        villages[village.parent_id].append(village.pk)
    numbers = _Numbers()
    for index in range(total):
        klass = classes[index % len(classes)]
        school = klass.school
        gender = "M" if rng.random() < 0.52 else "F"
        birth = _birth_date(rng, year, klass.grade)
        with_id = rng.random() > 0.01  # about 1 in 100 has no ID number yet
        groups = {g.value: rng.random() < rate for g, rate in KEY_GROUP_RATES.items()}
        surname = rng.choice(SURNAMES)
        student = Student(
            name=surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
            gender=gender,
            birth_date=birth,
            ethnicity=rng.choice(ETHNICITIES),
            id_number=numbers.make(school.township.code[:6], birth, gender) if with_id else None,
            hukou_region_id=rng.choice(villages.get(school.township_id) or [school.township_id]),
            school=school,
            klass=klass,
            grade=klass.grade,
            entry_date=datetime.date(year - klass.grade + 1, 9, 1),
            status=Status.ENROLLED,
            disability_type="intellectual" if groups[KeyGroup.DISABLED] else "",
            disability_grade=rng.choice((1, 2, 3, 4)) if groups[KeyGroup.DISABLED] else None,
            **groups,
        )
        guardian = Guardian(
            name=surname + rng.choice(GIVEN),
            relation=rng.choice(("父亲", "母亲", "祖父", "祖母")),
            phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
        )
        yield student, guardian


@transaction.atomic
def build_students(total: int, *, seed: int = 1, progress=None) -> int:
    """Create ``total`` students with a guardian and an 入学注册 event each; returns the
    count. ``progress(done, total)`` after each batch."""
    operator = (
        User.objects.filter(role="county_admin").order_by("id").first()
        or User.objects.filter(is_superuser=True).order_by("id").first()
    )
    if operator is None:
        raise ValueError("no county administrator to record the enrolment events")
    rows = _students(total, seed)
    write = _copy_batch if connection.vendor == "postgresql" else _bulk_batch
    size = COPY_BATCH if connection.vendor == "postgresql" else BATCH
    created = 0
    while batch := list(islice(rows, size)):
        write(batch, operator)
        created += len(batch)
        if progress is not None:
            progress(created, total)
    return created


def _event(student: Student, operator: User) -> EnrollmentEvent:
    return EnrollmentEvent(
        student=student,
        kind=EventKind.ENROL,
        date=student.entry_date,
        reason="建立学籍档案",
        school_id=student.school_id,
        status_after=Status.ENROLLED,
        operator=operator,
    )


def _bulk_batch(batch: list[tuple[Student, Guardian]], operator: User) -> None:
    students = Student.objects.bulk_create([s for s, _ in batch])
    guardians = []
    for student, guardian in zip(students, (g for _, g in batch), strict=True):
        guardian.student = student
        guardians.append(guardian)
    Guardian.objects.bulk_create(guardians)
    EnrollmentEvent.objects.bulk_create(_event(s, operator) for s in students)


def _copy_batch(batch: list[tuple[Student, Guardian]], operator: User) -> None:
    """The same rows as _bulk_batch, by COPY."""
    now = timezone.now()
    students = [s for s, _ in batch]
    for (student, guardian), pk in zip(batch, reserve_ids(Student, len(batch)), strict=True):
        student.pk = pk
        student.created_at = student.updated_at = now
        guardian.student_id = pk
    copy_objects(Student, students, with_pk=True)
    copy_objects(Guardian, [g for _, g in batch])
    events = [_event(s, operator) for s in students]
    for event in events:
        event.created_at = now
    copy_objects(EnrollmentEvent, events)
