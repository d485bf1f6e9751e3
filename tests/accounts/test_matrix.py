"""Every role × every single-record endpoint × in-area / out-of-area.

Out of area always answers 404 — never 403, never the record (a natural-key PUT, which
would create, is refused as a duplicate instead). In area answers 200 (201 when an API POST
creates a record, or a redirect after a page POST) to the roles allowed to use the endpoint and
to everyone who can see the record, and a write must then have done what it says (read back
from the database: a redirect back to the page with an error is not done); roles that may see
but not act get 403 and change nothing; roles that cannot see get 404 and change nothing.
"""

import json

import pytest

from accounts.models import User
from tests.jurisdiction_cases import (
    COUNTY_A,
    COUNTY_B,
    ENDPOINTS,
    LIST_ENDPOINTS,
    team_member,
)

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
    body = endpoint.body(record) if endpoint.body else {"active": "0"}
    if endpoint.method == "post":
        return client.post(url, body)
    if endpoint.method in ("patch", "put"):
        send = getattr(client, endpoint.method)
        return send(url, json.dumps(body), content_type="application/json")
    return client.get(url)


def assert_not_done(endpoint, record):
    if endpoint.done is not None:
        assert not endpoint.done(record), f"{endpoint.name}: a refused request changed the record"


# The world's one province holds both counties, so the province supervisor has no outside.
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("username", [u for u in ROLE_ACCOUNTS if u != "sheng_dudao"])
def test_out_of_area_record_is_404(world, username, endpoint):
    record = endpoint.pick(COUNTY_B)
    assert record is not None
    response = call(world.client(username), endpoint, record)
    expected = endpoint.outside
    if expected != 404 and world.user(username).role not in endpoint.allowed:
        expected = 403  # a role that may not write at all is refused before any look-up
    assert response.status_code == expected, (username, endpoint.name, response.status_code)
    assert str(record) not in response.content.decode()
    assert_not_done(endpoint, record)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("username", ROLE_ACCOUNTS)
def test_in_area_record_answers_by_role(world, username, endpoint):
    user = world.user(username)
    record = endpoint.pick(COUNTY_A)
    model = type(record)
    sees = model.objects.for_user(user).filter(pk=record.pk).exists()
    response = call(world.client(username), endpoint, record)
    refused_first = endpoint.outside != 404 and user.role not in endpoint.allowed
    if not sees:
        # A natural-key route refuses a role that may not write before any look-up.
        assert response.status_code == (403 if refused_first else 404)
        assert_not_done(endpoint, record)
    elif endpoint.allowed is None or user.role in endpoint.allowed:
        status = response.status_code
        assert status in (200, 201, 202, 302), (username, endpoint.name, status)
        if endpoint.done is not None:
            assert endpoint.done(record), (username, endpoint.name, "answered but not done")
    else:
        assert response.status_code == 403, (username, endpoint.name, response.status_code)
        assert_not_done(endpoint, record)


# 劝返 cases (issue 12 rule 2): a team member of another township works that case as the
# case's own township does, and is a stranger to the other cases of that township.
@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.team_member is not None], ids=lambda e: e.name
)
def test_a_team_member_of_another_township_acts_on_that_case_only(world, endpoint):
    client = world.client(team_member(COUNTY_A).username)
    record = endpoint.pick(COUNTY_A)
    response = call(client, endpoint, record)
    if endpoint.team_member:
        assert response.status_code in (200, 201, 302), (endpoint.name, response.status_code)
        if endpoint.done is not None:
            assert endpoint.done(record), (endpoint.name, "answered but not done")
    else:
        assert response.status_code == 403, (endpoint.name, response.status_code)
        assert_not_done(endpoint, record)
    elsewhere = endpoint.pick(COUNTY_A, team=False)
    response = call(client, endpoint, elsewhere)
    assert response.status_code == 404, (endpoint.name, "a case without the member")
    assert_not_done(endpoint, elsewhere)


@pytest.mark.parametrize(
    "endpoint", [e for e in LIST_ENDPOINTS if "return case" in e.name], ids=lambda e: e.name
)
def test_a_team_member_of_another_township_lists_that_case_only(world, endpoint):
    record = endpoint.pick(COUNTY_A)
    elsewhere = endpoint.pick(COUNTY_A, team=False)
    response = world.client(team_member(COUNTY_A).username).get(endpoint.url)
    assert response.status_code == 200
    listed = endpoint.ids(response)
    assert record.pk in listed and elsewhere.pk not in listed


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


@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("username", ROLE_ACCOUNTS)
def test_lists_hold_the_area_and_never_another_county(world, username, endpoint):
    user = world.user(username)
    inside, outside = endpoint.pick(COUNTY_A), endpoint.pick(COUNTY_B)
    response = world.client(username).get(endpoint.url)
    if endpoint.allowed is not None and user.role not in endpoint.allowed:
        assert response.status_code == 403, (username, endpoint.name, response.status_code)
        return
    assert response.status_code == 200, (username, endpoint.name, response.status_code)
    listed = endpoint.ids(response)
    sees = type(inside).objects.for_user(user).filter(pk=inside.pk).exists()
    assert (inside.pk in listed) == sees, (username, endpoint.name, "in-area record")
    if username != "sheng_dudao":  # the world's one province holds both counties
        assert outside.pk not in listed, (username, endpoint.name, "other county's record")
