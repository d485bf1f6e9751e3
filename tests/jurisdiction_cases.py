"""The jurisdiction matrix: every endpoint that shows or changes one record, with how to
find an in-area and an out-of-area record for it. Later issues add their records here with
one line each; tests/accounts/test_matrix.py runs every entry for every role.
"""

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


COUNTY_ADMIN_ONLY = frozenset({"county_admin"})

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
    Endpoint("region API", "/api/v1/regions/{pk}/", _township),
    Endpoint("school API", "/api/v1/schools/{pk}/", _school),
    Endpoint("class API", "/api/v1/classes/{pk}/", _class),
]
