"""Every list page costs the same number of queries however many rows it shows (issue 10,
item 9): no N+1 can creep in. Each case adds rows the page lists, counts the queries of one
request with few rows and again with more, and wants the same count.

The ledger list, the transfer list and the attendance pages have their own cases next to
their other tests (tests/ledger/test_views.py, tests/students/test_views.py,
tests/attendance/test_views.py)."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import Region
from accounts.notifications import notify
from students import services as student_services
from students.calendar import day_set
from students.choices import EventKind
from tests.students.factories import student_data

pytestmark = pytest.mark.django_db

ADMIN, STAFF = "xian_admin", "xz1_xx1_guanli"
_serial = itertools.count(1)


def _students(world, count):
    staff = world.user(STAFF)
    return [
        student_services.student_create(
            by=staff, data=student_data(staff.school, name=f"学生{next(_serial)}")
        )
        for _ in range(count)
    ]


def _student_names(world, count):
    return [student.name for student in _students(world, count)]


def _schools(world, count):
    admin = world.user(ADMIN)
    township = Region.objects.get(code="532926101")
    for _ in range(count):
        n = next(_serial)
        account_services.school_create(
            by=admin, code=f"2532926{n:03d}", name=f"新建小学{n}", kind="primary", township=township
        )
    return [f"新建小学{n}"]


def _villages(world, count):
    township = Region.objects.get(code="532926101")
    for _ in range(count):
        n = next(_serial)
        account_services.region_create(
            by=world.user(ADMIN), parent=township, code=f"532926101{600 + n:03d}", name=f"新村{n}"
        )
    return [f"新村{n}"]


def _accounts(world, count):
    school = world.user(STAFF).school
    for _ in range(count):
        n = next(_serial)
        account_services.account_create(
            by=world.user(ADMIN),
            username=f"teacher{n}",
            full_name=f"教师{n}",
            role="class_teacher",
            password="Kongchuo@2026-x",
            school=school,
        )
    return [f"teacher{n}"]


def _notifications(world, count):
    titles = [f"提醒{next(_serial)}" for _ in range(count)]
    for title in titles:
        notify([world.user(ADMIN)], kind="general", title=title, link="/")
    return titles


def _dropouts(world, count):
    """Students recorded as 辍学 without a ledger entry: 人账相符 mismatches."""
    staff = world.user(STAFF)
    students = _students(world, count)
    for student in students:
        student_services.event_record(
            by=staff,
            student=student,
            kind=EventKind.DROP_OUT,
            date=datetime.date.today(),
            reason="长期不到校",
        )
    return [student.name for student in students]


def _holidays(world, count, *, username=ADMIN):
    user = world.user(username)
    owner = user.school or Region.objects.get(code="532926")
    day = datetime.date(2026, 11, 2)  # a Monday
    notes = []
    for _ in range(count):
        notes.append(f"停课{next(_serial)}")
        day_set(by=user, owner=owner, date=day, kind="holiday", note=notes[-1])
        day += datetime.timedelta(days=1)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
    return notes


def _school_holidays(world, count):
    return _holidays(world, count, username=STAFF)


def _lists(world, count):
    """Uploaded lists with a run each (the mismatch and run lists have their case in
    tests/comparisons/test_pages.py)."""
    from tests.comparisons.results import make_run, make_source

    sources = [make_source() for _ in range(count)]
    for source in sources:
        make_run(source)
    return [source.name for source in sources]


def _mismatches(world, count):
    """未入学 candidates of one run, with a township and a disposition's worth of detail."""
    from tests.comparisons.results import make_mismatch, make_run, make_source

    run = make_run(make_source())
    names = [f"比对{next(_serial)}" for _ in range(count)]
    for name in names:
        make_mismatch(run, name=name, key=f"k{name}")
    return names


PAGES = [
    ("student list", "/students/", STAFF, _student_names),
    ("school list", "/org/schools/", ADMIN, _schools),
    ("region list", "/org/regions/", ADMIN, _villages),
    ("account list", "/accounts/", ADMIN, _accounts),
    ("audit list", "/audit/", ADMIN, _student_names),
    ("notification list", "/notifications/", ADMIN, _notifications),
    ("consistency page", "/ledger/consistency/", "xian_staff", _dropouts),
    ("county calendar page", "/calendar/", ADMIN, _holidays),
    ("school calendar page", "/calendar/", STAFF, _school_holidays),
    ("comparison list page", "/comparisons/sources/", "xian_staff", _lists),
]


@pytest.mark.parametrize(("name", "path", "username", "grow"), PAGES, ids=[p[0] for p in PAGES])
def test_list_page_queries_do_not_grow_with_its_rows(world, name, path, username, grow):
    client = world.client(username)

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        return len(captured), response.content.decode()

    grow(world, 1)
    few, _ = queries()
    shown = grow(world, 4)
    many, page = queries()
    assert shown[-1] in page, f"{name}: the rows added are not on the page"
    assert many == few, f"{name}: {few} queries with one row, {many} with five"
