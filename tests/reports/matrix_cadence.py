"""This part's records in the jurisdiction matrix (tests/jurisdiction_cases.py adds them):
a county's 四个一 sign-off, seen by the county and the levels above it."""

from tests.jurisdiction_cases import Endpoint, ListEndpoint, _api_ids, _page_ids


def _sign_off(prefix):
    from accounts.models import Region, User
    from reports.models import SignOff

    county = Region.objects.get(code=prefix)
    staff = User.objects.filter(region=county, role="county_staff").first()
    return SignOff.objects.create(
        region=county, period="quarter", year=2026, number=1, summary="审核通过", signed_by=staff
    )


ENDPOINTS = [
    Endpoint("sign-off API detail", "/api/v1/reports/sign-offs/{pk}/", _sign_off),
    Endpoint("sign-off page", "/reports/sign-offs/{pk}/", _sign_off),
]
LIST_ENDPOINTS = [
    ListEndpoint(
        "sign-off API list", "/api/v1/reports/sign-offs/?page_size=500", _sign_off, _api_ids
    ),
    ListEndpoint("sign-off list page", "/reports/sign-offs/", _sign_off, _page_ids()),
]
