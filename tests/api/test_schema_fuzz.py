"""Schema fuzzing (issue 10 §7): every operation of /api/v1/schema/, driven in process through
Django's WSGI app with a county token and a school token, answers no 5xx, only the status codes
and content types the schema documents, and bodies that match it.

Deterministic (Hypothesis derandomized, no example database) and bounded: FUZZ_EXAMPLES
examples per operation, account, generation mode (valid and invalid data) and kind of id (a
generated one, and a record of the caller's, so the detail and action operations get past the
404). KONGCHUO_FUZZ_EXAMPLES=50 makes a longer run. Every failure is collected, and all are
reported together with a curl line to reproduce each.

The database is really committed to (transactional test): a server error on PostgreSQL aborts
the surrounding transaction, which would turn every later request into an error too.
"""

import contextlib
import os
import traceback

import pytest
import schemathesis
from django.core.signals import got_request_exception
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Job, Notification, Region, School, SchoolClass
from attendance.models import RollCall
from comparisons.models import Mismatch, Run, Source
from ledger.models import LedgerEntry
from reports.models import MonthlyReport, SignOff
from returns.models import ReturnCase
from students.models import Student

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ_EXAMPLES = int(os.environ.get("KONGCHUO_FUZZ_EXAMPLES", "8"))
# A county bureau account and a school account: the two kinds of sync client.
USERS = ("xian_staff", "xz1_xx1_guanli")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

# The model behind the ``{id}`` of each collection, for the pass that names a record the
# caller can see.
_RECORDS = {
    "regions": Region,
    "schools": School,
    "classes": SchoolClass,
    "students": Student,
    "ledger-entries": LedgerEntry,
    "attendance": RollCall,
    "notifications": Notification,
    "jobs": Job,
    "return-cases": ReturnCase,
    "comparisons/sources": Source,
    "comparisons/runs": Run,
    "comparisons/mismatches": Mismatch,
    "watch-list": Student,
    "reports/monthly": MonthlyReport,
    "reports/sign-offs": SignOff,
}


def _token(world, username: str) -> str:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": world.password}
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


class _Token:
    """The account's current token; the logout operation revokes it, so it is renewed."""

    def __init__(self, world, username: str):
        self.world, self.username = world, username
        self.key = _token(world, username)

    def renew(self):
        self.key = _token(self.world, self.username)


def _visible_id(user, path: str) -> int | None:
    """A record of the caller's for ``/api/v1/<collection>/{id}/…``."""
    if "{id}" not in path:
        return None
    model = _RECORDS[path.removeprefix("/api/v1/").split("/{id}")[0]]
    queryset = model.objects.for_user(user)
    if model is Notification:
        queryset = queryset.filter(recipient=user)
    if model is Job:
        queryset = queryset.filter(requested_by=user)
    return queryset.order_by("pk").values_list("pk", flat=True).first()


def _seed(world):
    """A ledger entry, a 劝返 case with a visit and a document, a class-day, and for each
    account a notification and a finished export, so that every detail and action operation
    has a record of the caller's to work on."""
    from attendance.choices import Mark
    from ledger import services as ledger_services
    from returns import documents
    from students.calendar import term_save
    from tests.attendance import conftest as attendance
    from tests.ledger.conftest import entry_data, make_student
    from tests.returns.conftest import OFFICIAL, visit, working

    student = make_student(world)
    ledger_services.entry_create(by=world.user("xz1_xx1_guanli"), data=entry_data(student))
    case = working(world, make_student(world, grade=1))
    visit(world, case)
    documents.generate(by=world.user(OFFICIAL), case=case, kind="survey")
    term_save(
        by=attendance.county_admin(),
        owner=Region.objects.get(code=attendance.COUNTY),
        name="2026-2027学年第一学期",
        start=attendance.AUTUMN[0],
        end=attendance.AUTUMN[1],
    )
    attendance.open_to_teachers()
    klass = SchoolClass.objects.get(head_teacher=world.user(attendance.TEACHER))
    attendance.take(world, klass, attendance.MON, {attendance.pupil(world, klass): Mark.LATE})
    # A comparison's run and a mismatch that both accounts see (the school is the first
    # 中心校 of the county's first township, tests/comparisons/results.py).
    from tests.comparisons.results import first_school, make_mismatch, make_run, make_source

    make_mismatch(make_run(make_source()), school=first_school())
    # The first child each account sees, on the watch list (a key group).
    from attendance import watch

    Student.objects.filter(pk=_visible_id(world.user(USERS[1]), "/api/v1/students/{id}/")).update(
        left_behind=True
    )
    watch.compute()
    # This month's 月报表 of the school, and a county sign-off of the last quarter.
    from django.utils import timezone

    from reports import cadence, monthly

    today = timezone.localdate()
    school = world.user(USERS[1])
    monthly.report_open(by=school, school=school.school, year=today.year, month=today.month)
    county = world.user(USERS[0])
    quarter = cadence.latest_ended(cadence.level_of(county).period, today)
    cadence.sign(by=county, which=quarter, summary="本季度已逐校核查。")
    from accounts import jobs

    for username in USERS:
        Notification.objects.create(
            recipient=world.user(username), kind="general", title="测试通知", body=""
        )
        jobs.job_run(jobs.job_start(by=world.user(username), kind="ledger_export").pk)


class _Failures:
    def __init__(self):
        self.found: dict[tuple[str, str, str], str] = {}
        self._tracebacks: list[str] = []

    def on_exception(self, sender, **kwargs):
        # Django's signal for an exception that became a 500: keep the traceback for the report.
        self._tracebacks.append(traceback.format_exc())

    def before_request(self):
        self._tracebacks.clear()

    def record(self, operation, username, group: FailureGroup, status: int):
        trace = self._tracebacks[-1] if status >= 500 and self._tracebacks else ""
        for failure in group.exceptions:
            # One report per operation, account and kind of failure: the first example does.
            self.found.setdefault((operation.label, username, failure.title), group.args[0] + trace)

    def report(self) -> str:
        return "\n\n".join(
            f"== {label} as {username}: {title}\n{text}"
            for (label, username, title), text in sorted(self.found.items())
        )


def _fuzz(operation, *, mode, token: _Token, username, failures, path_parameters=None):
    @hypothesis_settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        # No shrinking: the first failing example is reported as it is, in bounded time.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    def run(case):
        failures.before_request()
        headers = {"Authorization": f"Token {token.key}"}
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            failures.record(operation, username, group, response.status_code)
        if operation.path.endswith("/auth/logout/") and response.status_code == 204:
            token.renew()

    # Unsatisfiable: invalid data for an operation whose only parameter is fixed.
    with contextlib.suppress(Unsatisfiable):
        run()


def test_no_operation_answers_a_server_error_or_outside_its_schema(world):
    _seed(world)
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/", app, headers={"Authorization": f"Token {_token(world, USERS[0])}"}
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures = _Failures()
    got_request_exception.connect(failures.on_exception)
    try:
        for username in USERS:
            user, token = world.user(username), _Token(world, username)
            for operation in operations:
                own = _visible_id(user, operation.path)
                for mode in MODES:
                    fuzz = {"mode": mode, "token": token, "username": username}
                    _fuzz(operation, failures=failures, **fuzz)
                    if own is not None:
                        _fuzz(operation, failures=failures, path_parameters={"id": own}, **fuzz)
    finally:
        got_request_exception.disconnect(failures.on_exception)
    assert not failures.found, f"{len(failures.found)} failures\n\n{failures.report()}"
