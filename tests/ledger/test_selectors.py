"""Reading the ledger (issue 4): who sees which entries, and the list's filters."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from accounts import jurisdiction
from ledger import selectors, services
from ledger.choices import EntryKind, Reason, State
from ledger.models import LedgerEntry
from students.choices import KeyGroup
from tests.ledger.conftest import (
    APPROVER,
    add_term,
    create_entry,
    entry_in,
    make_student,
    township,
    unenrolled_data,
)

pytestmark = pytest.mark.django_db


def _ids(queryset):
    return {entry.pk for entry in queryset}


@pytest.fixture
def spread(world):
    """Entries in two schools of township 1, one in township 2 and one in county B."""
    return {
        "xx1": create_entry(world, make_student(world)),
        "xx4": create_entry(
            world, make_student(world, "xz1_xx4_guanli", grade=8), "xz1_xx4_guanli"
        ),
        "xz2": create_entry(world, make_student(world, "xz2_xx1_guanli"), "xz2_xx1_guanli"),
        "c2": create_entry(world, make_student(world, "c2_xz1_xx1_guanli"), "c2_xz1_xx1_guanli"),
    }


@pytest.mark.parametrize(
    ("username", "seen"),
    [
        ("xz1_xx1_guanli", {"xx1"}),
        ("xz1_xx4_xiaozhang", {"xx4"}),
        ("xz1_ganbu", {"xx1", "xx4"}),
        ("xz1_cungan", {"xx1", "xx4"}),
        ("xz2_ganbu", {"xz2"}),
        ("xian_staff", {"xx1", "xx4", "xz2"}),
        ("c2_xian_admin", {"c2"}),
        ("shi_dudao", {"xx1", "xx4", "xz2"}),  # 大理州: county A only
        ("sheng_dudao", {"xx1", "xx4", "xz2", "c2"}),
    ],
)
def test_each_user_sees_the_entries_of_their_area_only(world, spread, username, seen):
    """A school sees its own entries (not another school's), a township its township's, a
    county the whole county, the province everything."""
    user = world.user(username)
    assert _ids(selectors.entries(user)) == {spread[key].pk for key in seen}


def test_an_entry_of_another_school_is_not_found(world, spread):
    user = world.user("xz1_xx1_guanli")
    with pytest.raises(Http404):
        jurisdiction.get_or_404(user, LedgerEntry, pk=spread["xx4"].pk)
    assert not selectors.entries(user, query=spread["xx4"].name).filter(pk=spread["xx4"].pk)


def test_a_county_sees_a_migrant_childs_entry_placed_in_its_township(world):
    """户籍 in county A, schooled in county B: both counties follow the child."""
    student = make_student(world, "c2_xz1_xx1_guanli", hukou_region=township(world, "xz2_ganbu"))
    entry = create_entry(world, student, "c2_xz1_xx1_guanli")
    for username in ("xian_admin", "xz2_ganbu", "c2_xian_admin", "c2_xz1_ganbu"):
        assert list(selectors.entries(world.user(username))) == [entry], username
    assert not selectors.entries(world.user("xz1_ganbu")).exists()


def test_filters_by_township_school_grade_kind_and_state(world, spread):
    county = world.user("xian_staff")
    xx1, xx4, xz2 = spread["xx1"], spread["xx4"], spread["xz2"]
    services.entry_confirm(by=county, entry=xx4)
    unenrolled = services.entry_create(by=county, data=unenrolled_data(world))
    assert _ids(selectors.entries(county, township=township(world).pk)) == {
        xx1.pk,
        xx4.pk,
        unenrolled.pk,
    }
    assert _ids(selectors.entries(county, school=xx4.school_id)) == {xx4.pk}
    assert _ids(selectors.entries(county, grade=8)) == {xx4.pk}
    assert _ids(selectors.entries(county, kind=EntryKind.DROPOUT)) == {xx4.pk}
    assert _ids(selectors.entries(county, kind=EntryKind.NOT_ENROLLED)) == {unenrolled.pk}
    assert _ids(selectors.entries(county, state=State.PENDING)) == {xx1.pk, xz2.pk}
    assert _ids(selectors.entries(county, state=State.CONFIRMED)) == {xx4.pk, unenrolled.pk}


def test_filter_by_reason_matches_the_primary_or_another_reason(world):
    primary = create_entry(world, make_student(world), reason=Reason.WORK)
    other = create_entry(
        world,
        make_student(world),
        reason=Reason.POVERTY,
        other_reasons=[Reason.EARLY_MARRIAGE, Reason.WORK],
    )
    create_entry(world, make_student(world), reason=Reason.LEARNING)
    county = world.user(APPROVER)
    assert _ids(selectors.entries(county, reason=Reason.WORK)) == {primary.pk, other.pk}
    assert _ids(selectors.entries(county, reason=Reason.EARLY_MARRIAGE)) == {other.pk}
    assert _ids(selectors.entries(county, reason=Reason.RELIGION)) == set()
    # A value not in the list is no filter at all.
    assert selectors.entries(county, reason="bored").count() == 3


def test_filter_by_key_group_uses_the_snapshot(world):
    left = create_entry(world, make_student(world, key_groups={KeyGroup.LEFT_BEHIND}))
    poor = create_entry(
        world,
        make_student(world, key_groups={KeyGroup.POVERTY_REGISTERED, KeyGroup.DISABLED}),
    )
    create_entry(world, make_student(world, key_groups={KeyGroup.RELAPSE_MONITORED}))
    county = world.user(APPROVER)
    assert _ids(selectors.entries(county, key_group=KeyGroup.LEFT_BEHIND)) == {left.pk}
    assert _ids(selectors.entries(county, key_group=KeyGroup.POVERTY_REGISTERED)) == {poor.pk}
    assert _ids(selectors.entries(county, key_group=KeyGroup.ORPHAN)) == set()


def test_filter_by_term_uses_the_date_found(world):
    today = timezone.localdate()
    county_a = township(world).parent
    last_term = add_term(
        county_a, today - datetime.timedelta(days=300), today - datetime.timedelta(days=150)
    )
    this_term = add_term(
        county_a, today - datetime.timedelta(days=100), today + datetime.timedelta(days=50)
    )
    now = create_entry(world, make_student(world), found_on=today)
    # In the break after the last term: it belongs to the last term.
    before = create_entry(
        world, make_student(world), found_on=last_term.end + datetime.timedelta(days=1)
    )
    county = world.user(APPROVER)
    assert _ids(selectors.entries(county, term=this_term.start.isoformat())) == {now.pk}
    assert _ids(selectors.entries(county, term=last_term.start.isoformat())) == {before.pk}
    # Any day of a term names the term; nonsense is no filter.
    assert _ids(selectors.entries(county, term=today.isoformat())) == {now.pk}
    assert selectors.entries(county, term="not-a-date").count() == 2


def test_filter_overdue_lists_unreviewed_open_entries(world):
    today = timezone.localdate()
    # The current term started 40 days ago: its classification month is over.
    add_term(township(world).parent, today - datetime.timedelta(days=40), today)
    stale = create_entry(world, make_student(world))
    create_entry(world, make_student(world))
    LedgerEntry.objects.filter(pk=stale.pk).update(reviewed_on=datetime.date(2000, 9, 1))
    assert _ids(selectors.entries(world.user(APPROVER), overdue=True)) == {stale.pk}
    # See test_terms for the rule's edges.


def test_filter_open_only_leaves_out_excluded_and_closed(world):
    pending = create_entry(world, make_student(world))
    entry_in(world, State.EXCLUDED, make_student(world))
    entry_in(world, State.CLOSED, make_student(world))
    assert _ids(selectors.entries(world.user(APPROVER), open_only=True)) == {pending.pk}


def test_search_by_name_or_id_number(world):
    student = make_student(world, name="字春兰")
    entry = create_entry(world, student)
    create_entry(world, make_student(world))
    county = world.user(APPROVER)
    assert list(selectors.entries(county, query="春兰")) == [entry]
    assert list(selectors.entries(county, query=student.id_number.lower())) == [entry]


def test_state_counts_lists_every_state_with_zeros(world):
    entry_in(world, State.CONFIRMED, make_student(world))
    entry_in(world, State.CONFIRMED, make_student(world))
    entry_in(world, State.EXCLUDED, make_student(world))
    counts = selectors.state_counts(selectors.entries(world.user(APPROVER)))
    assert [(state, n) for state, _, n in counts] == [
        (State.PENDING, 0),
        (State.EXCLUDED, 1),
        (State.CONFIRMED, 2),
        (State.PERSUADING, 0),
        (State.RETURNED, 0),
        (State.PROPOSED, 0),
        (State.CLOSED, 0),
    ]
    assert counts[2][1] == "已确认辍学"
    # Counted inside the user's area: county B sees only zeros.
    assert {
        n for *_, n in selectors.state_counts(selectors.entries(world.user("c2_xian_admin")))
    } == {0}
