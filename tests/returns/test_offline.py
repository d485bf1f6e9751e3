"""Home visits recorded offline (issue 17): sent later through returns.services.action_record
(the same write path), once per client UUID, refused with 409 and the server's copy when the
case changed since the version the phone edited (reassigned, closed, another action)."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Notification
from returns import services
from returns.choices import CaseState, Method
from returns.models import CaseAction, OfflineVisit
from tests.ledger.conftest import township
from tests.returns.conftest import (
    COUNTY_USER,
    OFFICIAL,
    TODAY,
    case_in,
    footprint,
    fresh,
    open_case,
    visit,
    working,
)

FORMER = "xz2_ganbu"  # worked the case until the county reassigned it to xz1

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def url(case) -> str:
    return f"/api/v1/return-cases/{case.pk}/offline-visit/"


def api(world, username=OFFICIAL) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.user(username))
    return client


def form(case, client_id, base_version, **extra) -> dict:
    return {
        "client_id": str(client_id),
        "base_version": base_version,
        "date": TODAY().isoformat(),
        "method": Method.VISIT,
        "result": "离线登记：家长答应送孩子返校",
        **extra,
    }


def photo():
    return SimpleUploadedFile("visit.png", PNG, content_type="image/png")


def test_offline_visit_replay_of_the_same_uuid_records_one_action(world, child):
    case = working(world, child)
    client, client_id = api(world), uuid.uuid4()
    first = client.post(url(case), form(case, client_id, case.version, attachments=[photo()]))
    assert first.status_code == 200, first.json()
    data = first.json()
    assert data["replayed"] is False and data["attachments"] == 1
    assert data["version"] == case.version + 1 and data["method"] == "上门"
    again = client.post(url(case), form(case, client_id, case.version, attachments=[photo()]))
    assert again.status_code == 200 and again.json() == {**data, "replayed": True}
    assert CaseAction.objects.filter(case=case).count() == 1
    recorded = OfflineVisit.objects.get(client_id=client_id).action
    assert recorded.result == "离线登记：家长答应送孩子返校" and recorded.attachments.count() == 1
    assert fresh(case).version == data["version"]


def test_offline_visit_on_a_stale_version_is_409_with_the_servers_copy(world, child):
    case = working(world, child)
    loaded = case.version
    visit(world, case)  # another cadre's visit meanwhile
    before = footprint(case)
    stale = api(world).post(url(case), form(case, uuid.uuid4(), loaded))
    assert stale.status_code == 409
    data = stale.json()
    assert data["base"] == fresh(case).version == loaded + 1
    assert data["server"]["id"] == case.pk and data["server"]["state"] == CaseState.WORKING
    assert "已有变动" in data["detail"] and data["errors"].keys() == {"base"}
    assert "*" in data["server"]["id_number"] or data["server"]["id_number"] is None
    assert footprint(case) == before and not OfflineVisit.objects.exists()
    # 保留我的: sent again on the server's version, recorded beside the other visit.
    kept = api(world).post(url(case), form(case, uuid.uuid4(), data["base"]))
    assert kept.status_code == 200 and CaseAction.objects.filter(case=case).count() == 2


def test_offline_visit_on_a_case_closed_meanwhile_conflicts_and_keeping_it_is_refused(world, child):
    case = case_in(world, CaseState.RETURNED, child)
    loaded = case.version
    services.case_close(by=world.user(OFFICIAL), case=case, note="跟踪期内正常上学")
    stale = api(world).post(url(case), form(case, uuid.uuid4(), loaded))
    assert stale.status_code == 409 and stale.json()["server"]["state"] == CaseState.CLOSED
    kept = api(world).post(url(case), form(case, uuid.uuid4(), stale.json()["base"]))
    assert kept.status_code in (400, 403) and kept.json()["detail"]
    assert not CaseAction.objects.filter(case=case, result__startswith="离线登记").exists()


def test_offline_visit_bad_input_names_the_field_and_records_nothing(world, child):
    case = working(world, child)
    response = api(world).post(url(case), form(case, uuid.uuid4(), case.version, result=" "))
    assert response.status_code == 400 and "result" in response.json()["errors"]
    response = api(world).post(url(case), form(case, "x", case.version))
    assert response.status_code == 400 and "client_id" in response.json()["errors"]
    assert not CaseAction.objects.filter(case=case).exists()


def test_offline_visit_outside_the_area_is_404(world, child):
    case = working(world, child)
    response = api(world, "xz2_ganbu").post(url(case), form(case, uuid.uuid4(), case.version))
    assert response.status_code == 404


def _reassigned_away(world, child):
    """A case of a child of xz1's school that xz2 worked, reassigned to xz1 while xz2's cadre
    was offline: the version the cadre's phone loaded, and the case."""
    case = open_case(world, child, township=township(world, FORMER), reason="监护人在该乡镇务工")
    case = services.case_acknowledge(by=world.user(FORMER), case=case)
    loaded = case.version
    case = services.case_reassign(
        by=world.user(COUNTY_USER), case=case, township=township(world, OFFICIAL), reason="已迁回"
    )
    return loaded, case


def test_offline_visit_on_a_case_reassigned_away_is_409_telling_only_where_it_went(world, child):
    loaded, case = _reassigned_away(world, child)
    before = footprint(case)
    response = api(world, FORMER).post(url(case), form(case, uuid.uuid4(), loaded))
    assert response.status_code == 409, response.json()
    data = response.json()
    assert data["base"] == fresh(case).version and data["errors"].keys() == {"base"}
    assert data["server"] == {
        "id": case.pk,
        "reassigned": True,
        "township_name": township(world, OFFICIAL).name,
        "reassigned_at": data["server"]["reassigned_at"],
    }
    assert data["server"]["reassigned_at"].startswith(TODAY().isoformat())
    assert f"改派至{township(world, OFFICIAL).name}" in data["detail"]
    assert child.name not in str(data) and child.id_number[-4:] not in str(data)
    assert footprint(case) == before and not OfflineVisit.objects.exists()


def test_keeping_a_visit_on_a_case_reassigned_away_records_it_and_tells_the_new_township(
    world, child
):
    loaded, case = _reassigned_away(world, child)
    client, photo_upload = api(world, FORMER), photo()
    base = client.post(url(case), form(case, uuid.uuid4(), loaded)).json()["base"]
    client_id = uuid.uuid4()
    kept = client.post(url(case), form(case, client_id, base, attachments=[photo_upload]))
    assert kept.status_code == 200, kept.json()
    assert kept.json()["attachments"] == 1 and kept.json()["version"] == base + 1
    action = OfflineVisit.objects.get(client_id=client_id).action
    assert action.case_id == case.pk and action.recorded_by == world.user(FORMER)
    assert action.result == "离线登记：家长答应送孩子返校"
    told = Notification.objects.get(recipient=world.user(OFFICIAL), title__contains="补登")
    former = world.user(FORMER)
    assert f"{former.full_name or former.username}离线登记的{TODAY():%Y-%m-%d}上门" in told.body
    again = client.post(url(case), form(case, client_id, base))
    assert again.json() == {**kept.json(), "replayed": True}
    assert CaseAction.objects.filter(case=case).count() == 1
    # Still outside their area: the case itself stays hidden from the former cadre.
    assert client.get(f"/api/v1/return-cases/{case.pk}/").status_code == 404


def test_a_case_reassigned_away_is_404_for_whoever_never_worked_it(world, child):
    loaded, case = _reassigned_away(world, child)
    for username in ("xz2_xx1_xiaozhang", "xz2_xx1_guanli"):
        response = api(world, username).post(url(case), form(case, uuid.uuid4(), loaded))
        assert response.status_code == 404, username
    for missing in ("99999999", "99999999999999999999", "abc", "１２"):
        response = api(world, FORMER).post(
            f"/api/v1/return-cases/{missing}/offline-visit/", form(case, uuid.uuid4(), loaded)
        )
        assert response.status_code == 404, missing
