"""The offline roll's server side (issue 17): a client UUID makes a replay harmless, a
class-day changed since the phone loaded it is a conflict (409 with the server's copy), and the
cut-off counts at the phone's time only within ATTENDANCE_OFFLINE_GRACE_DAYS (DOMAIN.md §4)."""

import datetime
import hashlib
import uuid
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from attendance import services
from attendance.choices import Mark
from attendance.models import AttendanceMark, OfflineRoll, RollCall
from kongchuo.errors import AppError
from kongchuo.offline import Conflict
from ledger.models import LedgerEntry
from tests.attendance.conftest import MON, PRINCIPAL, TEACHER, THU, TUE, WED, open_to_teachers, take

pytestmark = pytest.mark.django_db

OFFLINE = "/api/v1/attendance/offline/"


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def offline(world, klass, day, marks, *, client_id=None, taken_at=None, base=None, user=TEACHER):
    return services.submit_offline(
        by=world.user(user),
        klass=klass,
        day=day,
        marks=[services.MarkData(student=s.pk, status=status) for s, status in marks.items()],
        client_id=client_id or uuid.uuid4(),
        base=services.OfflineBase(taken_at=taken_at, changed_at=base),
    )


def api(world, username=TEACHER) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.user(username))
    return client


def body(klass, day, marks, client_id, base=None, taken_at=None) -> dict:
    return {
        "client_id": str(client_id),
        "klass": klass.pk,
        "date": day.isoformat(),
        "marks": [{"student": s.pk, "status": status} for s, status in marks.items()],
        "base": base.isoformat() if base else None,
        "taken_at": taken_at.isoformat() if taken_at else None,
    }


def test_offline_replay_of_the_same_uuid_gives_one_roll_and_the_same_result(world, klass, pupils):
    open_to_teachers()
    client_id = uuid.uuid4()
    first = offline(world, klass, MON, {pupils[0]: Mark.SICK}, client_id=client_id)
    audits = AuditEvent.objects.count()
    # The phone did not hear the answer and sends it again.
    again = offline(world, klass, MON, {pupils[0]: Mark.SICK}, client_id=client_id)
    assert first.pop("replayed") is False and again.pop("replayed") is True
    assert first == again and first["created"] is True and first["absent"] == 1
    assert RollCall.objects.filter(klass=klass, date=MON).count() == 1
    assert OfflineRoll.objects.get(client_id=client_id).roll_id == first["roll"]
    assert AuditEvent.objects.count() == audits  # nothing written the second time


def test_offline_roll_runs_the_suspected_dropout_rule(world, klass, pupils):
    open_to_teachers()
    take(world, klass, MON, {pupils[1]: Mark.UNEXCUSED})
    take(world, klass, TUE, {pupils[1]: Mark.UNEXCUSED})
    result = offline(world, klass, WED, {pupils[1]: Mark.UNEXCUSED})
    entry = LedgerEntry.objects.get(student=pupils[1])
    assert result["flagged"] == [{"entry": entry.pk, "name": pupils[1].name}]


def test_offline_uuid_of_another_account_is_refused(world, klass, pupils):
    open_to_teachers()
    client_id = uuid.uuid4()
    offline(world, klass, MON, {}, client_id=client_id)
    with pytest.raises(AppError, match="其他账号") as caught:
        offline(world, klass, MON, {}, client_id=client_id, user=PRINCIPAL)
    assert caught.value.errors.keys() == {"client_id"}


def test_offline_conflict_when_the_class_day_changed_since_the_phone_loaded_it(
    world, klass, pupils
):
    open_to_teachers()
    # The phone loaded MON before anyone took the roll; then the principal took it.
    server = take(world, klass, MON, {pupils[0]: Mark.SICK}).roll
    with pytest.raises(Conflict) as caught:
        offline(world, klass, MON, {pupils[0]: Mark.UNEXCUSED, pupils[2]: Mark.LATE})
    assert caught.value.current.pk == server.pk and caught.value.base == server.changed_at
    assert "请选择保留哪一份" in caught.value.message
    assert dict(AttendanceMark.objects.filter(roll=server).values_list("student", "status")) == {
        pupils[0].pk: Mark.SICK
    }
    assert not OfflineRoll.objects.exists()
    # 保留我的: sent again on the server's version, the phone's marks replace the server's.
    kept = offline(
        world,
        klass,
        MON,
        {pupils[0]: Mark.UNEXCUSED, pupils[2]: Mark.LATE},
        base=server.changed_at,
    )
    assert kept["changed"] == 2
    assert dict(AttendanceMark.objects.filter(roll=server).values_list("student", "status")) == {
        pupils[0].pk: Mark.UNEXCUSED,
        pupils[2].pk: Mark.LATE,
    }


def test_offline_roll_equal_to_the_servers_is_no_conflict(world, klass, pupils):
    open_to_teachers()
    take(world, klass, TUE, {pupils[0]: Mark.SICK})
    result = offline(world, klass, TUE, {pupils[0]: Mark.SICK})
    assert result["changed"] == 0 and result["created"] is False


def test_offline_api_answers_409_with_the_servers_copy_and_200_on_replay(world, klass, pupils):
    open_to_teachers()
    client = api(world)
    client_id = uuid.uuid4()
    first = client.post(
        OFFLINE, body(klass, THU, {pupils[3]: Mark.PERSONAL}, client_id), format="json"
    )
    assert first.status_code == 200 and first.json()["replayed"] is False
    replay = client.post(
        OFFLINE, body(klass, THU, {pupils[3]: Mark.PERSONAL}, client_id), format="json"
    )
    assert replay.json() == {**first.json(), "replayed": True}
    # Another teacher changes THU; the phone's next edit, on the old version, conflicts.
    take(world, klass, THU, {pupils[3]: Mark.SICK})
    roll = RollCall.objects.get(klass=klass, date=THU)
    stale = client.post(
        OFFLINE,
        body(klass, THU, {pupils[3]: Mark.UNEXCUSED}, uuid.uuid4(), base=at(THU, 8)),
        format="json",
    )
    assert stale.status_code == 409
    data = stale.json()
    assert [(m["name"], m["status"]) for m in data["server"]["marks"]] == [
        (pupils[3].name, Mark.SICK)
    ]
    assert datetime.datetime.fromisoformat(data["base"]) == roll.changed_at
    assert "id_number" not in data["server"]["marks"][0]
    # 保留我的 with the base from the 409.
    kept = client.post(
        OFFLINE,
        body(klass, THU, {pupils[3]: Mark.UNEXCUSED}, uuid.uuid4(), base=roll.changed_at),
        format="json",
    )
    assert kept.status_code == 200 and kept.json()["changed"] == 1


def test_offline_api_bad_input_names_the_field(world, klass, pupils):
    open_to_teachers()
    response = api(world).post(
        OFFLINE, {**body(klass, MON, {}, uuid.uuid4()), "client_id": "not-a-uuid"}, format="json"
    )
    assert response.status_code == 400 and "client_id" in response.json()["errors"]


# -- the grace rule (DOMAIN.md §4 cut-off, issue 17 rule 4) -----------------------------------


def _at_server(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_grace_rule_offline_roll_taken_before_the_cutoff_counts_at_the_phones_time(
    world, klass, pupils
):
    # Default cut-off: 18:00 the same day. The phone took MON's roll at 17:30 without signal
    # and the connection returned at 19:00: the same day, inside the grace.
    assert settings.ATTENDANCE_OFFLINE_GRACE_DAYS == 0
    with _at_server(at(MON, 19)):
        result = offline(world, klass, MON, {pupils[0]: Mark.SICK}, taken_at=at(MON, 17, 30))
        assert result["created"] is True
        # Taken after the cut-off: the normal rule (the principal changes it).
        with pytest.raises(AppError, match="已过修改截止时间"):
            offline(world, klass, MON, {pupils[0]: Mark.LATE}, taken_at=at(MON, 18, 30))


def test_grace_rule_a_later_submission_follows_the_normal_late_change_rule(world, klass, pupils):
    # Sent the next morning: past the grace, the cut-off counts now, and only the principal
    # (LATE_ATTENDANCE) may still change it.
    with _at_server(at(TUE, 8)):
        with pytest.raises(AppError, match="请联系校长"):
            offline(world, klass, MON, {pupils[0]: Mark.SICK}, taken_at=at(MON, 17, 30))
        assert offline(world, klass, MON, {pupils[0]: Mark.SICK}, user=PRINCIPAL)["created"]
    with override_settings(ATTENDANCE_OFFLINE_GRACE_DAYS=1), _at_server(at(TUE, 8)):
        result = offline(world, klass, MON, {pupils[0]: Mark.SICK}, taken_at=at(MON, 17, 30))
        assert result["changed"] == 0


def test_grace_rule_a_phone_clock_ahead_of_the_server_counts_as_now(world, klass, pupils):
    with _at_server(at(MON, 19)):
        assert services.counted_time(at(MON, 23)) == at(MON, 19)
        assert services.counted_time(None) == at(MON, 19)
        with pytest.raises(AppError, match="已过修改截止时间"):
            offline(world, klass, MON, {}, taken_at=at(MON, 23))


# -- the vendored service worker library ----------------------------------------------------

WORKBOX = {
    "workbox-sw.js": "a6e365b56c060e7cfb7f38bd4eaea77859ca1f20a632631af4dc72a42ccdb466",
    "workbox-core.prod.js": "e5fe645c1c2019c0e32b5a863a03b484db2311d17df443704c025babc0bb1f4f",
    "workbox-routing.prod.js": "844e227e94979b17caa529a90bead72541c32985d91f1e17ed2589a741cf7647",
    "workbox-strategies.prod.js": "c4139ddc2510aea347456a8ed167f820683492561394c64fd1eca5827cd219d3",
}


def test_vendored_workbox_is_the_pinned_7_4_1_with_its_licence():
    folder = Path(settings.BASE_DIR) / "static" / "vendor" / "workbox"
    for name, digest in WORKBOX.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
        assert f"`{digest}`" in (folder / "README.md").read_text()
    assert "workbox-sw 7.4.1" in (folder / "README.md").read_text()
    licence = (folder / "LICENSE").read_text()
    assert "Google LLC" in licence and "Permission is hereby granted, free of charge" in licence
    worker = (Path(settings.BASE_DIR) / "static" / "js" / "sw.js").read_text()
    assert 'importScripts("/static/vendor/workbox/workbox-sw.js")' in worker
    assert 'modulePathPrefix: "/static/vendor/workbox/"' in worker
    assert "googleapis" not in worker and "cdn" not in worker.lower()


def test_service_worker_and_manifest_are_served_from_the_root(client):
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker["Service-Worker-Allowed"] == "/"
    assert worker["Content-Type"].startswith("text/javascript")
    assert b"kongchuo-offline" in worker.content
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["name"] == "控辍保学台账" and manifest["scope"] == "/"
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix(settings.STATIC_URL).lstrip("/"))
        with Image.open(path) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"] and image.format == "PNG"


def test_a_deactivated_accounts_next_request_tells_the_browser_to_wipe(client, world):
    teacher = world.user(TEACHER)
    client.force_login(teacher)
    assert "X-Kongchuo-Wipe" not in client.get("/attendance/")
    teacher.is_active = False
    teacher.save(update_fields=["is_active"])
    response = client.get("/attendance/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert response["X-Kongchuo-Wipe"] == "deactivated"
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "X-Kongchuo-Wipe" not in Client().get("/login/")  # a plain visitor: nothing to wipe
