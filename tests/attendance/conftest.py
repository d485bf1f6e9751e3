"""Attendance fixtures: county A's default calendar for two terms, a class with pupils, and
a way to take a roll through the service."""

import datetime
import itertools

import pytest
from django.utils import timezone

from accounts.models import Region, SchoolClass, User
from attendance import services
from attendance.choices import Mark
from attendance.models import AttendanceRules
from students import services as student_services
from students.calendar import term_save
from tests.students.factories import student_data

TEACHER = "xz1_xx1_banzhuren"
PRINCIPAL = "xz1_xx1_xiaozhang"
COUNTY = "532926"
SPRING = (datetime.date(2026, 3, 2), datetime.date(2026, 7, 10))
AUTUMN = (datetime.date(2026, 9, 1), datetime.date(2027, 1, 20))
# A plain school week of the autumn term: Monday 2026-10-12 to Friday 2026-10-16.
MON, TUE, WED, THU, FRI = (datetime.date(2026, 10, 12) + datetime.timedelta(d) for d in range(5))
NEXT_MON = MON + datetime.timedelta(days=7)
_names = itertools.count(1)


def county_admin() -> User:
    return User.objects.get(role="county_admin", region__code=COUNTY)


@pytest.fixture
def terms(world):
    county = Region.objects.get(code=COUNTY)
    for (start, end), name in (
        (SPRING, "2025-2026学年第二学期"),
        (AUTUMN, "2026-2027学年第一学期"),
    ):
        term_save(by=county_admin(), owner=county, name=name, start=start, end=end)
    return county


@pytest.fixture
def klass(world, terms) -> SchoolClass:
    return SchoolClass.objects.select_related("school__township").get(
        head_teacher=world.user(TEACHER)
    )


def pupil(world, klass: SchoolClass, *, by=PRINCIPAL, **overrides):
    """A new enrolled student of ``klass``, registered by ``by``."""
    user = world.user(by)
    number = next(_names)
    data = student_data(
        klass.school,
        grade=klass.grade,
        klass=klass,
        name=f"学生{number:03d}",
        student_number=f"G53292620{number:05d}",
        **{"entry_date": datetime.date(2025, 9, 1), **overrides},
    )
    return student_services.student_create(by=user, data=data)


@pytest.fixture
def pupils(world, klass):
    return [pupil(world, klass) for _ in range(4)]


def open_to_teachers() -> AttendanceRules:
    """Let class teachers (and sync clients) still change the test weeks' rolls today: the
    default cut-off closes a roll the same evening, and the test dates are fixed."""
    days = (timezone.localdate() - SPRING[0]).days + 7
    rules, _ = AttendanceRules.objects.update_or_create(
        county=Region.objects.get(code=COUNTY), defaults={"cutoff_days": days}
    )
    return rules


def take(world, klass, day, marks=None, *, user=PRINCIPAL):
    """Submit ``klass``'s roll for ``day``: ``marks`` maps students to their mark, everyone
    else is present."""
    return services.submit(
        by=world.user(user),
        klass=klass,
        day=day,
        marks=[
            services.MarkData(student=student.pk, status=status)
            for student, status in (marks or {}).items()
        ],
    )


def absent(world, klass, days, student, status=Mark.UNEXCUSED, **kwargs):
    """Take the roll on each of ``days`` with ``student`` marked ``status``."""
    return [take(world, klass, day, {student: status}, **kwargs) for day in days]
