"""Notifications where 销号 work waits (issue 11 §5): a proposal goes to exactly the county
accounts that may approve it; a proposal sent back goes to whoever proposed it. Each title
names the child by school, class and name."""

import pytest

from accounts.choices import NotificationKind
from accounts.models import Notification
from accounts.notifications import subject
from kongchuo.errors import AppError
from ledger import services
from ledger.choices import ClosureReason, State
from tests.ledger.conftest import (
    APPROVER,
    COUNTY_USER,
    SCHOOL_USER,
    create_entry,
    entry_in,
    fresh,
    township,
    unenrolled_data,
)

pytestmark = pytest.mark.django_db

PROPOSED = NotificationKind.CLOSURE_PROPOSED
REJECTED = NotificationKind.CLOSURE_REJECTED


def _propose(world, entry, username=SCHOOL_USER, **kwargs):
    return services.entry_propose_closure(
        by=world.user(username),
        entry=entry,
        reason=kwargs.pop("reason", ClosureReason.STUDYING_ELSEWHERE),
        evidence_text=kwargs.pop("evidence_text", "外省学校出具的在读证明"),
        **kwargs,
    )


def _recipients(kind) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def _who(child) -> str:
    """What every title starts with: school, class, name."""
    return f"{child.school.name} {child.klass} {child.name}"


# -- the title helper --------------------------------------------------------------------------


def test_subject_names_school_class_and_child(world, child):
    assert subject(child.name, school=child.school, klass=child.klass) == _who(child)
    assert " 一年级" in _who(child), "the class reads as grade and class"
    # A child never enrolled has no class; a school-wide list names only the school.
    assert subject("王小芳", school=child.school) == f"{child.school.name} 王小芳"
    assert subject(school=child.school) == child.school.name
    assert subject("王小芳") == "王小芳"


# -- a proposal to approve ---------------------------------------------------------------------


def test_proposal_notifies_the_county_accounts_that_may_approve_and_nobody_else(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    _propose(world, entry)
    assert _recipients(PROPOSED) == {"xian_staff", "xian_admin"}
    assert (
        not Notification.objects.exclude(kind=PROPOSED)
        .filter(recipient__username__in=("c2_xian_staff", "c2_xian_admin"))
        .exists()
    ), "the other county's staff get nothing"
    note = Notification.objects.get(kind=PROPOSED, recipient__username="xian_staff")
    assert note.title == f"{_who(child)}：申请销号（在外地就读），待审核"
    assert note.link == f"/ledger/{entry.pk}/"
    assert "外省学校出具的在读证明" in note.body and "批准或退回" in note.body
    assert world.user(SCHOOL_USER).full_name in note.body, "names the proposer"


def test_proposer_is_not_asked_to_approve_their_own_proposal(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    _propose(world, entry, COUNTY_USER)
    assert _recipients(PROPOSED) == {APPROVER}


def test_inactive_county_accounts_are_not_notified(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    staff = world.user(COUNTY_USER)
    staff.is_active = False
    staff.save()
    _propose(world, entry)
    assert _recipients(PROPOSED) == {APPROVER}


def test_a_migrant_childs_proposal_reaches_both_counties_that_keep_the_entry(world, child):
    # Responsible township in county B, school in county A: both counties see the entry
    # and either may approve.
    entry = create_entry(world, child, township=township(world, "c2_xz1_ganbu"))
    entry = services.entry_confirm(by=world.user(SCHOOL_USER), entry=entry)
    _propose(world, fresh(entry))
    assert _recipients(PROPOSED) == {"xian_staff", "xian_admin", "c2_xian_staff", "c2_xian_admin"}


def test_a_refused_proposal_notifies_nobody(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    with pytest.raises(AppError, match="证明材料"):
        _propose(world, entry, evidence_text="")
    assert not Notification.objects.exists()


def test_an_unenrolled_childs_proposal_names_the_child_without_a_class(world):
    entry = services.entry_create(
        by=world.user("xz1_xx1_guanli"), data=unenrolled_data(world, name="王小芳")
    )
    _propose(world, entry, reason=ClosureReason.ERROR, evidence_text="与另一条记录重复")
    note = Notification.objects.get(kind=PROPOSED, recipient__username=APPROVER)
    assert note.title == f"{entry.school.name} 王小芳：申请销号（信息错误/重复），待审核"


# -- a proposal sent back ----------------------------------------------------------------------


def test_a_proposal_sent_back_notifies_the_school_that_proposed_it(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    _propose(world, entry)
    services.entry_reject(by=world.user(APPROVER), entry=fresh(entry), comment="证明未盖章")
    assert _recipients(REJECTED) == {SCHOOL_USER}
    note = Notification.objects.get(kind=REJECTED)
    assert note.title == f"{_who(child)}：销号申请被退回"
    assert note.link == f"/ledger/{entry.pk}/"
    assert "证明未盖章" in note.body and "在外地就读" in note.body
    assert "劝返中" in note.body, "tells the state the entry went back to"
    assert world.user(APPROVER).full_name in note.body, "names who sent it back"


def test_a_county_proposal_sent_back_notifies_the_county_proposer(world, child):
    # County staff propose too; when another county account sends the proposal back, the
    # county staff who proposed it must act again, and are told.
    entry = entry_in(world, State.PERSUADING, child)
    _propose(world, entry, COUNTY_USER)
    services.entry_reject(by=world.user(APPROVER), entry=fresh(entry), comment="请补充材料")
    assert _recipients(REJECTED) == {COUNTY_USER}


def test_sending_back_ones_own_proposal_notifies_nobody(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    _propose(world, entry, COUNTY_USER)
    services.entry_reject(by=world.user(COUNTY_USER), entry=fresh(entry), comment="撤回重报")
    assert not Notification.objects.filter(kind=REJECTED).exists()


def test_an_approval_sends_no_sent_back_notice(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    _propose(world, entry)
    services.entry_approve(by=world.user(APPROVER), entry=fresh(entry), comment="同意")
    assert not Notification.objects.filter(kind=REJECTED).exists()
