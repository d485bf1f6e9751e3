"""A key-group child flagged by the attendance rule (issue 10, item 1): the entry is made by the
ledger's one constructor, so it stores key-group values like every other entry, and the
ledger's list API, detail API, entry page, list page and export all read it back.

The policy names these children first (DOMAIN.md §3): an entry that crashed the ledger for
them is the bug this file keeps from coming back."""

import importlib

import pytest

from ledger.exports import HEADINGS
from ledger.models import LedgerEntry
from students.choices import KeyGroup
from tests import export_jobs
from tests.attendance.conftest import MON, TUE, WED, absent, pupil

STAFF = "xian_staff"


@pytest.fixture
def flagged(world, klass):
    child = pupil(world, klass, key_groups={KeyGroup.LEFT_BEHIND, KeyGroup.DISABLED})
    results = absent(world, klass, [MON, TUE, WED], child)
    assert [len(result.flagged) for result in results] == [0, 0, 1]
    return LedgerEntry.objects.get(student=child)


def test_rule_made_entry_stores_key_group_values(flagged):
    assert sorted(flagged.key_groups) == sorted(
        [KeyGroup.LEFT_BEHIND.value, KeyGroup.DISABLED.value]
    )
    assert sorted(flagged.key_group_labels) == sorted(["农村留守儿童", "残疾"])


def test_rule_made_entry_reads_back_through_the_api(world, flagged):
    api = world.token_client(STAFF)
    listed = api.get("/api/v1/ledger-entries/", {"key_group": KeyGroup.LEFT_BEHIND.value})
    assert listed.status_code == 200
    rows = {row["id"]: row for row in listed.json()["results"]}
    assert set(rows) == {flagged.pk}, "the key-group filter finds the rule-made entry"
    assert sorted(rows[flagged.pk]["key_group_labels"]) == sorted(["农村留守儿童", "残疾"])
    other = api.get("/api/v1/ledger-entries/", {"key_group": KeyGroup.ORPHAN.value})
    assert other.json()["results"] == []
    detail = api.get(f"/api/v1/ledger-entries/{flagged.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert sorted(body["key_groups"]) == ["disabled", "left_behind"]
    assert body["events"][0]["actor"] == "系统（考勤规则）"


def test_rule_made_entry_reads_back_on_the_pages_and_in_the_export(world, flagged):
    client = world.client(STAFF)
    page = client.get(f"/ledger/{flagged.pk}/")
    assert page.status_code == 200 and "农村留守儿童" in page.content.decode()
    listed = client.get("/ledger/", {"key_group": KeyGroup.LEFT_BEHIND.value})
    assert [entry.pk for entry in listed.context["object_list"]] == [flagged.pk]
    _, content = export_jobs.export(
        client, "/ledger/export/", {"key_group": KeyGroup.LEFT_BEHIND.value}
    )
    rows = export_jobs.rows(content)
    assert rows[0] == tuple(HEADINGS) and len(rows) == 2
    groups = rows[1][HEADINGS.index("重点群体")]
    assert set(groups.split("、")) == {"农村留守儿童", "残疾"}


def test_migration_turns_stored_names_back_into_values(world, flagged):
    """Entries written before the fix held names: the data migration repairs them and leaves
    right values alone."""
    migration = importlib.import_module("ledger.migrations.0004_key_group_values")
    LedgerEntry.objects.filter(pk=flagged.pk).update(key_groups=["农村留守儿童", "disabled"])
    from django.apps import apps

    migration.names_to_values(apps, None)
    flagged.refresh_from_db()
    assert flagged.key_groups == ["left_behind", "disabled"]
    migration.names_to_values(apps, None)
    flagged.refresh_from_db()
    assert flagged.key_groups == ["left_behind", "disabled"]
