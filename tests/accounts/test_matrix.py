"""Every role × every single-record endpoint × in-area / out-of-area.

Out of area always answers 404 — never 403, never the record. In area answers 200 (or a
redirect after a POST) to the roles allowed to use the endpoint and to everyone who can see
the record; roles that may see but not act get 403; roles that cannot see get 404.
"""

import pytest

from accounts.models import User
from tests.jurisdiction_cases import COUNTY_A, COUNTY_B, ENDPOINTS

pytestmark = pytest.mark.django_db

# One account of each role in county A (city supervisor: county A's city; province: both).
ROLE_ACCOUNTS = [
    "sheng_dudao",
    "shi_dudao",
    "xian_admin",
    "xian_staff",
    "api_xian",
    "xz1_ganbu",
    "xz1_cungan",
    "xz1_xx1_xiaozhang",
    "xz1_xx1_guanli",
    "xz1_xx1_banzhuren",
]


def call(client, endpoint, record):
    url = endpoint.url.format(pk=record.pk)
    if endpoint.method == "post":
        return client.post(url, endpoint.body(record) if endpoint.body else {"active": "0"})
    return client.get(url)


# The world's one province holds both counties, so the province supervisor has no outside.
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("username", [u for u in ROLE_ACCOUNTS if u != "sheng_dudao"])
def test_out_of_area_record_is_404(world, username, endpoint):
    record = endpoint.pick(COUNTY_B)
    assert record is not None
    response = call(world.client(username), endpoint, record)
    assert response.status_code == 404, (username, endpoint.name, response.status_code)
    assert str(record) not in response.content.decode()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("username", ROLE_ACCOUNTS)
def test_in_area_record_answers_by_role(world, username, endpoint):
    user = world.user(username)
    record = endpoint.pick(COUNTY_A)
    model = type(record)
    sees = model.objects.for_user(user).filter(pk=record.pk).exists()
    response = call(world.client(username), endpoint, record)
    if not sees:
        assert response.status_code == 404
    elif endpoint.allowed is None or user.role in endpoint.allowed:
        assert response.status_code in (200, 302), (username, endpoint.name, response.status_code)
    else:
        assert response.status_code == 403, (username, endpoint.name, response.status_code)


def test_matrix_covers_every_role(world):
    from accounts.choices import Role

    roles = set(User.objects.filter(username__in=ROLE_ACCOUNTS).values_list("role", flat=True))
    assert roles == {r.value for r in Role}


def test_matrix_covers_every_routed_single_record_url():
    from tests.accounts.test_urls import routed_urls

    with_ids = {
        url for url, _ in routed_urls() if "/1/" in url and not url.endswith((".json", ".yaml"))
    }
    patterns = {e.url.format(pk=1) for e in ENDPOINTS}
    missing = {url for url in with_ids if url not in patterns}
    assert not missing, f"add these to tests/jurisdiction_cases.py: {sorted(missing)}"
