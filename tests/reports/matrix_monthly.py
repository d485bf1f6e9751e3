"""This part's records in the jurisdiction matrix (tests/jurisdiction_cases.py adds them):
the 月报表 of a county's first 中心校, seen by the school, its township and the levels above;
filled in by the school's staff and principal, signed by the principal only."""

from tests.jurisdiction_cases import Endpoint, ListEndpoint, _api_ids, _page_ids, _school, _staff

SCHOOL = frozenset({"principal", "school_staff"})
PRINCIPAL = frozenset({"principal"})


def _draft(prefix):
    """This period's report of the county's first 中心校, a draft with its 填表人."""
    from django.utils import timezone

    from reports import monthly

    school = _school(prefix)
    staff = _staff(school)
    today = timezone.localdate()
    report = monthly.report_open(by=staff, school=school, year=today.year, month=today.month)
    monthly.draft_update(
        by=staff,
        version=monthly.draft_of(report),
        changes=monthly.DraftChanges(filled_by="王老师", phone="", measures={}),
    )
    return report


def _signed(prefix):
    from accounts.models import User
    from reports import monthly

    report = _draft(prefix)
    principal = User.objects.get(school=report.school, role="principal")
    monthly.version_sign(by=principal, version=monthly.draft_of(report))
    return report


def _version(prefix):
    return _draft(prefix).versions.get()


def _filled(report) -> bool:
    return report.versions.filter(filled_by="李老师").exists()


def _is_signed(report) -> bool:
    return report.versions.filter(signed_at__isnull=False).exists()


def _corrected(report) -> bool:
    return report.versions.count() == 2


_EDIT = {"filled_by": "李老师", "phone": ""}
_CORRECT = {"correction_reason": "漏报一名学生"}


def _writes(name: str, page: str, api: str, pick, allowed, body=None, done=None):
    common = {"method": "post", "allowed": allowed, "body": body or (lambda r: {}), "done": done}
    return [
        Endpoint(f"monthly report {name} page POST", f"/reports/monthly/{{pk}}/{page}/", pick, **common),
        Endpoint(f"monthly report {name} API POST", f"/api/v1/reports/monthly/{{pk}}/{api}/", pick, **common),
    ]  # fmt: skip


ENDPOINTS = [
    Endpoint("monthly report page", "/reports/monthly/{pk}/", _draft),
    Endpoint(
        "monthly report version XLSX",
        "/reports/monthly/versions/{pk}/xlsx/",
        _version,
        method="post",
        body=lambda r: {},
    ),
    Endpoint("monthly report API detail", "/api/v1/reports/monthly/{pk}/", _draft),
    Endpoint("monthly report API XLSX", "/api/v1/reports/monthly/{pk}/xlsx/", _draft),
    *_writes("edit", "edit", "draft", _draft, SCHOOL, lambda r: _EDIT, _filled),
    *_writes("refresh", "refresh", "refresh", _draft, SCHOOL),
    *_writes("sign", "sign", "sign", _draft, PRINCIPAL, done=_is_signed),
    *_writes("correct", "correct", "correct", _signed, SCHOOL, lambda r: _CORRECT, _corrected),
]
LIST_ENDPOINTS = [
    ListEndpoint("monthly report API list", "/api/v1/reports/monthly/?page_size=500", _draft, _api_ids),
    ListEndpoint("monthly report list page", "/reports/monthly/", _draft, _page_ids()),
]  # fmt: skip
