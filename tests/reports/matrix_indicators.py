"""This part's records in the jurisdiction matrix (tests/jurisdiction_cases.py adds them).

The indicators have no single-record URL; their lists are the schools the dashboard and the
API rank (every school of the area, the world having fewer than 20 per area)."""

from accounts.models import School
from tests.jurisdiction_cases import ListEndpoint, _school

ENDPOINTS = []


def _ranked_codes(codes) -> set[int]:
    return set(School.objects.filter(code__in=list(codes)).values_list("pk", flat=True))


LIST_ENDPOINTS = [
    ListEndpoint(
        "indicators API school ranking",
        "/api/v1/indicators/",
        _school,
        lambda response: _ranked_codes(row["code"] for row in response.json()["school_ranking"]),
    ),
    ListEndpoint(
        "dashboard school ranking",
        "/reports/dashboard/",
        _school,
        lambda response: _ranked_codes(
            row.code for row in response.context["result"].school_ranking
        ),
    ),
]
