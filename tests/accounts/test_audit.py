"""Audit trail (DOMAIN.md §10): append-only, complete, and free of personal identifiers."""

import logging

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accounts import audit, services
from accounts.choices import AuditAction, Role
from accounts.models import AuditEvent, School
from kongchuo.logging import redact

pytestmark = pytest.mark.django_db


def test_audit_event_cannot_be_edited_or_deleted_through_the_orm(world):
    event = audit.record(actor=world.user("xian_admin"), action=AuditAction.EXPORT, detail="x")
    event.detail = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="changed")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).detail == "x"


@pytest.mark.postgres
def test_postgresql_itself_refuses_update_and_delete_of_the_audit_trail(world):
    event = audit.record(actor=world.user("xian_admin"), action=AuditAction.EXPORT, detail="x")
    for sql in (
        "UPDATE accounts_auditevent SET detail = 'forged' WHERE id = %s",
        "DELETE FROM accounts_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).detail == "x"


def test_login_and_failed_login_are_recorded_with_client_address(world, client):
    client.post(
        "/login/", {"username": "xian_admin", "password": "wrong-password"}, REMOTE_ADDR="10.1.2.3"
    )
    client.post(
        "/login/", {"username": "xian_admin", "password": world.password}, REMOTE_ADDR="10.1.2.4"
    )
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor_name == "xian_admin" and failed.client_address == "10.1.2.3"
    assert failed.region_code == "532926"
    login = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert login.actor.username == "xian_admin" and login.client_address == "10.1.2.4"


def test_no_id_number_phone_or_password_reaches_the_audit_trail_or_logs(world, caplog):
    admin = world.user("xian_admin")
    school = School.objects.filter(township__code__startswith="532926").first()
    user = services.account_create(
        by=admin,
        username="w1",
        full_name="王五",
        role=Role.SCHOOL_STAFF,
        password="Zq8#long-pass",
        school=school,
        phone="13912345678",
    )
    services.account_update(
        by=admin,
        user=user,
        full_name="王五",
        role=Role.SCHOOL_STAFF,
        region=None,
        school=school,
        phone="13800001111",
    )
    # An ID number typed as a user name on the login page must not be stored either.
    world.client("xian_admin").logout()
    from django.test import Client

    Client().post("/login/", {"username": "11010519491231002X", "password": "Zq8#long-pass"})
    with caplog.at_level(logging.INFO):
        logging.getLogger("kongchuo.test").info("looked up 11010519491231002X at 13912345678")
    stored = " ".join(
        str(value)
        for row in AuditEvent.objects.values_list("actor_name", "object_repr", "changes", "detail")
        for value in row
    )
    for secret in ("13912345678", "13800001111", "11010519491231002X", "Zq8#long-pass"):
        assert secret not in stored
    update = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(user.pk))
    assert update.changes == {"phone": ["[已隐藏]", "[已隐藏]"]}
    handler_filters = logging.getLogger().handlers[0].filters
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "id %s phone %s",
        ("11010519491231002X", "13912345678"),
        None,
    )
    for f in handler_filters:
        f.filter(record)
    assert (
        "11010519491231002X" not in record.getMessage() and "13912345678" not in record.getMessage()
    )


def test_redact_masks_id_numbers_and_phones_but_not_other_numbers():
    assert (
        redact("身份证11010519491231002x，电话13912345678")
        == "身份证[身份证号已隐藏]，电话[电话已隐藏]"
    )
    assert (
        redact("学校标识码 1329260001，区划 532926100201")
        == "学校标识码 1329260001，区划 532926100201"
    )


def test_county_admin_browses_and_filters_the_county_audit_trail(world):
    admin = world.client("xian_admin")
    services.account_set_active(
        by=world.user("xian_admin"), user=world.user("xz1_ganbu"), active=False
    )
    services.account_set_active(
        by=world.user("c2_xian_admin"), user=world.user("c2_xz1_ganbu"), active=False
    )
    page = admin.get("/audit/", {"action": "update"}).content.decode()
    assert "xz1_ganbu" in page and "停用账号" in page
    assert "c2_xz1_ganbu" not in page
    assert world.client("xz1_xx1_xiaozhang").get("/audit/").status_code == 403


def test_diff_of_a_create_and_of_an_update_hide_the_same_fields():
    after = {"id": 7, "name": "李小明", "id_number": "532926201703140011", "klass_id": None}
    assert audit.diff(None, after) == {
        "id": [None, 7],
        "id_number": ["", audit.HIDDEN],
        "name": [None, "李小明"],
    }
    before = {**after, "id_number": None, "name": "李晓明"}
    assert audit.diff(before, after) == {
        "id_number": ["", audit.HIDDEN],
        "name": ["李晓明", "李小明"],
    }


def test_a_bulk_writers_rows_are_what_record_saves(world):
    school = School.objects.select_related("township").first()
    actor = world.user("xian_admin")
    saved = audit.record(
        actor=actor, action=AuditAction.UPDATE, obj=school, detail="电话13812345678"
    )
    row = audit.event_columns(
        actor=actor,
        action=AuditAction.UPDATE,
        model=School,
        pk=school.pk,
        text=str(school),
        detail="电话13812345678",
        region_code=school.audit_region_code,
    )
    assert audit.snapshot_row(School, {"id": school.pk, **audit.snapshot(school)}) == (
        audit.snapshot(school)
    )
    fields = ("actor_id", "actor_name", "action", "object_type", "object_id", "object_repr")
    assert {name: getattr(saved, name) for name in (*fields, "detail", "region_code")} == {
        name: row[name] for name in (*fields, "detail", "region_code")
    }
    assert row["detail"] == "电话[电话已隐藏]"
