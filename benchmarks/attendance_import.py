"""Issue 16: attendance from a spreadsheet — a school month (1,000 students × 22 school days,
the wide layout, one column per day) imported through ``attendance.imports.import_attendance``
(every row checked, then the roll's own ``submit`` path and the 疑似辍学 rule), beside a floor
measured in the same run: reading the same workbook with python-calamine and COPYing its marks
into a temporary table. Target: under 5 s.

It runs on the attendance benchmark's data (1,000,000 students), whose schools hold about a
hundred students each: one primary school is given 20 classes of 50 students of its county for
the figure. Everything it changes — the classes, the moved students, the imported marks — is
rolled back at the end, so the other figures see the data as generated.
"""

import io
import random
import time

from .common import record

STUDENTS = 1000
CLASSES = 20
DAYS = 22
ABSENT_WORDS = ("迟到", "病假", "事假", "旷课")
ABSENT_RATE = 0.03
TARGET_S = 5.0


class _Rollback(Exception):
    """Raised to leave the set-up transaction without keeping anything."""


def _school_month():
    """A principal and the 1,000 students of their school's 20 classes (made inside the open
    transaction)."""
    from django.db import connection

    from accounts.choices import SchoolKind
    from accounts.models import School, SchoolClass, User, current_school_year
    from students.choices import ENROLLED_STATUSES
    from students.models import Student

    principal = (
        User.objects.filter(role="principal", school__kind=SchoolKind.PRIMARY)
        .select_related("school__township")
        .order_by("id")
        .first()
    )
    school: School = principal.school
    year = current_school_year()
    classes = [
        SchoolClass.objects.create(school=school, grade=3, name=f"导入{n}班", school_year=year)
        for n in range(1, CLASSES + 1)
    ]
    county_prefix = school.township.code[:6]
    ids = list(
        Student.objects.filter(
            school__township__code__startswith=county_prefix,
            status__in=ENROLLED_STATUSES,
            id_number__isnull=False,
        )
        .order_by("id")
        .values_list("id", flat=True)[:STUDENTS]
    )
    with connection.cursor() as cursor:
        for index, klass in enumerate(classes):
            chunk = ids[index::CLASSES]
            cursor.execute(
                "UPDATE students_student SET school_id = %s, klass_id = %s, grade = 3 "
                "WHERE id = ANY(%s)",
                [school.pk, klass.pk, chunk],
            )
    students = list(
        Student.objects.filter(pk__in=ids).select_related("klass").order_by("klass_id", "id")
    )
    return principal, students


def _workbook(students, days) -> tuple[bytes, int]:
    """The wide layout: ID, name, class, then one column per day (blank = present)."""
    from attendance import imports
    from kongchuo.xlsx import workbook_bytes

    rng = random.Random(16)  # noqa: S311 - benchmark data
    headings = [
        imports.ID_HEADING,
        imports.NAME_HEADING,
        imports.CLASS_HEADING,
        *(f"{day:%Y-%m-%d}" for day in days),
    ]
    rows, marks = [], 0
    for student in students:
        cells = [rng.choice(ABSENT_WORDS) if rng.random() < ABSENT_RATE else "" for _ in days]
        marks += sum(bool(cell) for cell in cells)
        rows.append([student.id_number, student.name, str(student.klass), *cells])
    content, _ = workbook_bytes("考勤表", headings, rows, text_columns=(0,))
    return content, marks


def _floor(content: bytes, days) -> float:
    """Read the workbook with calamine and COPY every (row, day, word) into a temp table."""
    from django.db import connection

    from kongchuo.spreadsheets import read_sheet

    started = time.perf_counter()
    rows = read_sheet(content, max_rows=10_000_000, too_many="")
    buffer = io.StringIO()
    for number, cells in enumerate(rows[1:], start=2):
        for day, cell in zip(days, cells[3:], strict=False):
            buffer.write(f"{number}\t{day:%Y-%m-%d}\t{cell or '出勤'}\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_marks (row int, day date, word text)")
        cursor.cursor.copy_expert("COPY bench_marks FROM STDIN", buffer)
        cursor.execute("DROP TABLE bench_marks")
    return time.perf_counter() - started


def run() -> None:
    from django.db import connection, transaction

    from attendance.imports import import_attendance
    from benchmarks import attendance

    if connection.vendor != "postgresql":
        print("attendance import: skipped, it needs PostgreSQL (the attendance benchmark's data)")
        return
    bulk, _, _ = attendance._school_days()
    days = bulk[-DAYS:]
    try:
        with transaction.atomic():
            principal, students = _school_month()
            content, marks = _workbook(students, days)
            floor = _floor(content, days)
            started = time.perf_counter()
            result = import_attendance(by=principal, content=content)
            took = time.perf_counter() - started
            print(
                f"attendance import: {len(students)} students × {len(days)} days, "
                f"{marks} absences; {result.class_days} class-days written, "
                f"{len(result.opened)} 疑似辍学 entries opened, {len(result.errors)} errors",
                flush=True,
            )
            raise _Rollback
    except _Rollback:
        pass
    record(
        f"attendance import {STUDENTS}×{DAYS} (wide XLSX)",
        took,
        floor,
        "s",
        target=f"< {TARGET_S:.0f} s",
        met=took < TARGET_S and not result.errors,
    )
