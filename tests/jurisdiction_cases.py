"""The jurisdiction matrix: every endpoint that shows or changes one record, with how to
find an in-area and an out-of-area record for it. Later issues add their records here with
one line each; tests/accounts/test_matrix.py runs every entry for every role.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from accounts.models import Job, Region, School, SchoolClass, User

COUNTY_A, COUNTY_B = "532926", "530102"


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str  # formatted with the record's pk
    pick: Callable[[str], object]  # county code prefix → a record in that county
    method: str = "get"
    # Roles that may use the endpoint on an in-area record (others: 403 or 404, never 200).
    allowed: frozenset[str] | None = None  # None: everyone who can see the record


def _school(prefix):
    return (
        School.objects.filter(township__code__startswith=prefix, parent__isnull=True)
        .order_by("code")
        .first()
    )


def _class(prefix):
    return (
        SchoolClass.objects.filter(school__township__code__startswith=prefix)
        .exclude(head_teacher=None)
        .order_by("pk")
        .first()
    )


def _township(prefix):
    return Region.objects.filter(code__startswith=prefix, level=4).order_by("code").first()


def _account(prefix):
    return (
        User.objects.filter(school__township__code__startswith=prefix, role="class_teacher")
        .order_by("pk")
        .first()
    )


def _finished_job(prefix):
    """A finished export requested by the county administrator (jobs are owner-only)."""
    from accounts import jobs

    admin = User.objects.get(role="county_admin", region__code=prefix)
    job = jobs.job_start(by=admin, kind="account_export")
    jobs.job_run(job.pk)
    return Job.objects.get(pk=job.pk)


def _student(prefix):
    """A student of the county's first 中心校, created by that school's staff."""
    from students.services import student_create
    from tests.students.factories import student_data

    school = _school(prefix)
    staff = User.objects.filter(school=school, role="school_staff").first()
    return student_create(by=staff, data=student_data(school))


def _transfer(prefix):
    """A pending transfer into the county's first 中心校 from another school of the county."""
    from students.choices import EventKind
    from students.services import event_record, student_create
    from tests.students.factories import student_data

    target = _school(prefix)
    origin = (
        School.objects.filter(township__code__startswith=prefix, parent__isnull=True)
        .exclude(pk=target.pk)
        .order_by("code")
        .first()
    )
    staff = User.objects.filter(school=origin, role="school_staff").first()
    student = student_create(by=staff, data=student_data(origin))
    return event_record(
        by=staff,
        student=student,
        kind=EventKind.TRANSFER_OUT,
        date=datetime.date.today(),
        reason="迁居",
        to_school=target,
    )


def _student_with_number(prefix):
    """A student with a 学籍号 (found by natural key), created like _student."""
    from students.services import student_create
    from tests.students.factories import student_data

    school = _school(prefix)
    staff = User.objects.filter(school=school, role="school_staff").first()
    data = student_data(school)
    data.student_number = f"G{data.id_number}"
    return student_create(by=staff, data=data)


class NaturalKeyURL(str):
    """A URL that addresses a record by a natural key (身份证号, 学籍号) instead of its pk.

    test_matrix formats every URL with ``pk=record.pk``; this one puts ``field`` of the
    record with that pk in its place. A pk with no record stays as it is, so the routed-URL
    coverage check (which formats with pk=1 on an empty database) still matches the pattern.
    """

    def __new__(cls, template: str, *, model: str, field: str):
        url = super().__new__(cls, template)
        url.model, url.field = model, field
        return url

    def format(self, *args, **kwargs):
        from django.apps import apps

        pk = kwargs["pk"]
        manager = apps.get_model(self.model)._default_manager
        key = manager.filter(pk=pk).values_list(self.field, flat=True).first()
        return str.format(self, pk=key or pk)


COUNTY_ADMIN_ONLY = frozenset({"county_admin"})
STUDENT_RECORDERS = frozenset(
    {"principal", "school_staff", "county_staff", "county_admin", "api_client"}
)
REVEALERS = frozenset({"principal", "school_staff", "county_staff", "county_admin"})

ENDPOINTS = [
    Endpoint("school page", "/org/schools/{pk}/", _school),
    Endpoint("school edit page", "/org/schools/{pk}/edit/", _school, allowed=COUNTY_ADMIN_ONLY),
    Endpoint(
        "new class page", "/org/schools/{pk}/classes/new/", _school, allowed=COUNTY_ADMIN_ONLY
    ),
    Endpoint("class page", "/org/classes/{pk}/", _class),
    Endpoint("class edit page", "/org/classes/{pk}/edit/", _class, allowed=COUNTY_ADMIN_ONLY),
    Endpoint("region edit page", "/org/regions/{pk}/edit/", _township, allowed=COUNTY_ADMIN_ONLY),
    Endpoint("account edit page", "/accounts/{pk}/edit/", _account, allowed=COUNTY_ADMIN_ONLY),
    Endpoint(
        "account disable",
        "/accounts/{pk}/active/",
        _account,
        method="post",
        allowed=COUNTY_ADMIN_ONLY,
    ),
    Endpoint("job page", "/jobs/{pk}/", _finished_job),
    Endpoint("job download", "/jobs/{pk}/download/", _finished_job),
    Endpoint("student page", "/students/{pk}/", _student),
    Endpoint("student edit page", "/students/{pk}/edit/", _student, allowed=STUDENT_RECORDERS),
    Endpoint(
        "student event page", "/students/{pk}/events/new/", _student, allowed=STUDENT_RECORDERS
    ),
    Endpoint(
        "student reveal", "/students/{pk}/reveal/", _student, method="post", allowed=REVEALERS
    ),
    Endpoint(
        "transfer decision",
        "/students/transfers/{pk}/decide/",
        _transfer,
        method="post",
        allowed=STUDENT_RECORDERS,
    ),
    Endpoint("region API", "/api/v1/regions/{pk}/", _township),
    Endpoint("school API", "/api/v1/schools/{pk}/", _school),
    Endpoint("class API", "/api/v1/classes/{pk}/", _class),
    Endpoint("student API", "/api/v1/students/{pk}/", _student),
    Endpoint("student events API", "/api/v1/students/{pk}/events/", _student),
    Endpoint(
        "student by ID number API",
        NaturalKeyURL(
            "/api/v1/students/by-id-number/{pk}/", model="students.Student", field="id_number"
        ),
        _student,
    ),
    Endpoint(
        "student by student number API",
        NaturalKeyURL(
            "/api/v1/students/by-student-number/{pk}/",
            model="students.Student",
            field="student_number",
        ),
        _student_with_number,
    ),
]
