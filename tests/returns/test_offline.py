"""Home visits recorded offline (issue 17): sent later through returns.services.action_record
(the same write path), once per client UUID, refused with 409 and the server's copy when the
case changed since the version the phone edited (reassigned, closed, another action)."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from returns import services
from returns.choices import CaseState, Method
from returns.models import CaseAction, OfflineVisit
from tests.returns.conftest import OFFICIAL, TODAY, case_in, footprint, fresh, visit, working

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
