"""Encryption at rest (issue 15 §3): ID numbers, guardian phones, disability details and the
ledger's family situation and parents' contacts are stored sealed; ID numbers are found and
kept unique through a keyed hash; keys rotate with ``manage.py rotate_keys``."""

import base64
import hashlib
import hmac
import os
import subprocess
import sys

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from accounts import audit
from kongchuo import crypto, sealed
from kongchuo.masking import mask_phone
from ledger.models import LedgerEntry
from students import selectors
from students.imports import copy_rows
from students.models import Guardian, Student
from tests.ledger.conftest import create_entry, make_student, unenrolled_data

NEW_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"rotated field key").digest()).decode()
NEW_LOOKUP_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"rotated lookup key").digest()).decode()


def _raw(model, pk, column: str):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {model._meta.db_table}"  # noqa: S608
            " WHERE id = %s",
            [pk],
        )
        value = cursor.fetchone()[0]
    return bytes(value) if value is not None else None


@pytest.fixture
def child(world):
    return make_student(
        world, disability_type="physical", disability_grade=3, key_groups={"disabled"}
    )


def test_sealed_values_are_not_stored_in_plain(child):
    guardian = child.guardians.get()
    for model, pk, column, plain in (
        (Student, child.pk, "id_number", child.id_number),
        (Student, child.pk, "disability_type", "physical"),
        (Student, child.pk, "disability_grade", "3"),
        (Guardian, guardian.pk, "phone", "13812345678"),
    ):
        stored = _raw(model, pk, column)
        # A short text (the grade's one digit) turns up by chance among 33 random bytes:
        # its stored form is checked by opening it.
        assert stored != plain.encode()
        if len(plain) >= 6:
            assert plain.encode() not in stored
        assert stored[:1] == crypto.VERSION and crypto.unseal(stored) == plain
    # Each value has a nonce of its own: the same text is never stored twice alike.
    assert crypto.seal(child.id_number) != crypto.seal(child.id_number)
    fresh = Student.objects.get(pk=child.pk)
    assert (fresh.disability_type, fresh.disability_grade) == ("physical", 3)


def test_the_ledgers_family_situation_and_parents_contact_are_sealed(world):
    entry = create_entry(world, **unenrolled_data(world).__dict__ | {"student": None})
    for column, plain in (
        ("id_number", entry.id_number),
        ("family_situation", "父母外出务工，随祖父母生活"),
        ("parent_contact", "13812345678"),
    ):
        stored = _raw(LedgerEntry, entry.pk, column)
        assert plain.encode() not in stored and crypto.unseal(stored) == plain
    assert LedgerEntry.objects.get(pk=entry.pk).family_situation == "父母外出务工，随祖父母生活"


def test_id_numbers_are_found_by_their_keyed_hash_and_masked_without_decrypting(world, child):
    key = base64.urlsafe_b64decode(settings.LOOKUP_HASH_KEY)
    expected = hmac.new(key, child.id_number.encode(), hashlib.sha256).hexdigest()[:32]
    assert Student.objects.values_list("id_hash", flat=True).get(pk=child.pk) == expected
    # The masked form is a column of its own: shown with the sealed column never read.
    listed = Student.objects.defer("id_number").get(pk=child.pk)
    assert listed.masked_id_number == f"{child.id_number[:6]}********{child.id_number[-4:]}"
    assert "id_number" in listed.get_deferred_fields()
    # The list's search finds the child by the full number, through the hash.
    user = world.user("xz1_xx1_guanli")
    assert list(selectors.students(user, query=child.id_number.lower())) == [child]


def test_guardian_phones_keep_a_masked_copy_through_every_writer(world, child):
    """The bulk sync reads guardians' phones from their masked copy (issue 19 §5): written
    by save and bulk_create (the services), COPY (imports, the demo) and kept by updates."""
    from students import services

    guardian = child.guardians.get()
    assert guardian.phone_masked == mask_phone(guardian.phone) == guardian.masked_phone
    values = services.current_values(child)
    values["guardians"] = [services.GuardianData(name="李四", relation="父亲", phone="13900001111")]
    data = services.StudentData(**values)
    services.student_update(by=world.user("xz1_xx1_guanli"), student=child, data=data)
    assert list(child.guardians.values_list("phone_masked", flat=True)) == ["139****1111"]
    copy_rows(
        Guardian,
        [{"student_id": child.pk, "name": "王五", "relation": "母亲", "phone": "13700002222"}],
    )
    assert Guardian.objects.get(name="王五").phone_masked == "137****2222"


def test_a_query_comparing_a_sealed_column_fails_loudly(child):
    # A sealed value never equals another (nonces): a silent "no match" would be a bug.
    with pytest.raises(FieldError, match="encrypted"):
        list(Student.objects.filter(id_number=child.id_number))
    assert Student.objects.filter(id_number__isnull=False).count() == 1


def test_uniqueness_of_id_numbers_holds_through_the_hash(child):
    twin = Student(
        name="李小明",
        gender=child.gender,
        birth_date=child.birth_date,
        school=child.school,
        grade=child.grade,
        id_number=child.id_number,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Student.objects.bulk_create([twin])


def test_every_sealed_field_is_hidden_in_the_audit_trail():
    for model in apps.get_models():
        for field in sealed.sealed_fields(model):
            assert field.name in audit.SENSITIVE_FIELDS, f"{model._meta.label}.{field.name}"


def test_rotate_keys_seals_again_with_the_new_key_and_the_old_key_can_go(world, child):
    old_key = crypto.ring().current
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
        stored = _raw(Student, child.pk, "id_number")
        assert crypto.key_of(stored) == crypto.ring().current != old_key
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        fresh = Student.objects.get(pk=child.pk)
        assert fresh.id_number == child.id_number and fresh.disability_grade == 3
        assert fresh.guardians.get().phone == "13812345678"


def test_a_value_sealed_with_a_key_no_longer_configured_is_a_clear_error(child):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        with pytest.raises(crypto.SealError, match="no longer holds"):
            Student.objects.get(pk=child.pk)
        with pytest.raises(CommandError, match="nothing was changed"):
            call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115


def test_rotate_keys_lookup_hash_recomputes_every_hash(world, child):
    user = world.user("xz1_xx1_guanli")
    with override_settings(LOOKUP_HASH_KEY=NEW_LOOKUP_KEY):
        assert not selectors.students(user, query=child.id_number).exists()
        call_command("rotate_keys", "--lookup-hash", stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert list(selectors.students(user, query=child.id_number)) == [child]


def test_a_merge_and_a_rule_keep_the_hash_with_the_number(world, child):
    """An UPDATE of many rows never bypasses the hash: a merge clears both together."""
    from students import merge

    twin = make_student(world, name=child.name, with_id=False)
    merge.merge_students(
        by=world.user("xian_admin"), keep=twin, merged=child, reason="同一人的两条记录"
    )
    twin.refresh_from_db()
    child.refresh_from_db()
    assert twin.id_number and twin.id_hash == crypto.lookup_hash(twin.id_number)
    assert child.id_number is None and child.id_hash is None and child.id_masked == ""


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({}, "FIELD_ENCRYPTION_KEYS is not set"),
        (
            {"FIELD_ENCRYPTION_KEYS": "not-a-key", "LOOKUP_HASH_KEY": NEW_LOOKUP_KEY},
            "URL-safe base64 of 32 random bytes",
        ),
        ({"FIELD_ENCRYPTION_KEYS": NEW_KEY}, "LOOKUP_HASH_KEY is not set"),
    ],
)
def test_production_refuses_to_start_without_valid_keys(environment, message):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "kongchuo.settings.production",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://nobody@db.invalid:5432/nothing",
        "REDIS_URL": "redis://broker.invalid:6379/0",
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
