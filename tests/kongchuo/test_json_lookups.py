"""``has_value`` (kongchuo.json_lookups): a whole element of a JSON list, on SQLite and on
PostgreSQL alike, and on PostgreSQL from the GIN index. The ledger's key-group and reason
lists are its host fields."""

import pytest
from django.db import connection

from ledger import selectors
from ledger.choices import Reason
from ledger.models import LedgerEntry
from students.choices import KeyGroup
from tests.ledger.conftest import create_entry, make_student

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(world):
    """Entries whose key-group lists hold made-up values, one part of another."""
    values = {
        "whole": ["abc"],
        "longer": ["abc_def"],
        "prefixed": ["xabc", "ab"],
        "quoted": ['say "abc"'],
        "chinese": ["农村留守儿童"],
        "number": [1],
        "empty": [],
    }
    made = {}
    for name, groups in values.items():
        entry = create_entry(world, make_student(world))
        LedgerEntry.objects.filter(pk=entry.pk).update(key_groups=groups)
        made[name] = entry.pk
    return made


def _having(value) -> set[int]:
    return set(LedgerEntry.objects.filter(key_groups__has_value=value).values_list("pk", flat=True))


def test_has_value_matches_a_whole_element_never_part_of_one(lists):
    assert _having("abc") == {lists["whole"]}
    assert _having("abc_def") == {lists["longer"]}
    assert _having("ab") == {lists["prefixed"]}
    assert _having("bc") == set()
    assert _having('say "abc"') == {lists["quoted"]}
    # Stored escaped (\\u519c…) on SQLite: a text search of the JSON would miss it.
    assert _having("农村留守儿童") == {lists["chinese"]}


def test_has_value_keeps_strings_and_numbers_apart(lists):
    assert _having(1) == {lists["number"]}
    assert _having("1") == set()


def test_has_value_refuses_what_is_not_one_element(lists):
    for value in (["abc"], {"abc": 1}, True):
        with pytest.raises(TypeError):
            _having(value)
    with pytest.raises(ValueError, match="None"):
        _having(None)


def test_key_group_and_reason_filters_go_through_has_value(world):
    left = create_entry(world, make_student(world, key_groups={KeyGroup.LEFT_BEHIND}))
    other = create_entry(world, make_student(world), other_reasons=[Reason.WORK])
    main = create_entry(world, make_student(world), reason=Reason.WORK)
    queryset = LedgerEntry.objects.all()
    by_group = selectors.filtered(queryset, key_group=KeyGroup.LEFT_BEHIND)
    assert set(by_group.values_list("pk", flat=True)) == {left.pk}
    by_reason = selectors.filtered(queryset, reason=Reason.WORK)
    assert set(by_reason.values_list("pk", flat=True)) == {other.pk, main.pk}
    assert "LIKE" not in str(by_group.query) and "LIKE" not in str(by_reason.query)


@pytest.mark.postgres
def test_postgresql_can_answer_the_filters_from_the_indexes(lists):
    # Few rows: without this the planner rightly prefers a sequential scan.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = LedgerEntry.objects.filter(key_groups__has_value="abc").explain()
    assert "ledger_key_groups_gin" in plan, plan
    plan = selectors.filtered(LedgerEntry.objects.all(), reason=Reason.WORK).explain()
    assert "ledger_reason" in plan and "ledger_other_reasons_gin" in plan, plan
