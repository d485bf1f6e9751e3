"""The ledger's state machine (DOMAIN.md §5, issue 4): every action from every state by every
role, through the services, and what each allowed transition does."""

import pytest
from django.db import transaction
from django.utils import timezone

from kongchuo.errors import AppError
from ledger import consistency, permissions, services
from ledger.choices import Action, ClosureReason, EntryKind, Reason, State, Whereabouts
from ledger.transitions import REOPENED_STATE, TRANSITIONS
from students import services as student_services
from students.choices import EventKind, Status
from tests.ledger.conftest import (
    APPROVER,
    COUNTY_USER,
    ROLE_USERS,
    SCHOOL_USER,
    create_entry,
    entry_in,
    footprint,
    fresh,
    township,
)

pytestmark = pytest.mark.django_db


def _call(world, action, by, entry):
    """The service of ``action`` with valid input; only the state and the role decide."""
    calls = {
        Action.EXCLUDE: lambda: services.entry_exclude(by=by, entry=entry, note="核实：病假"),
        Action.CONFIRM: lambda: services.entry_confirm(by=by, entry=entry, note="家访确认"),
        Action.ASSIGN: lambda: services.entry_assign(
            by=by, entry=entry, township=township(world, "xz2_ganbu")
        ),
        Action.RETURN: lambda: services.entry_return(by=by, entry=entry, note="回原班就读"),
        Action.PROPOSE: lambda: services.entry_propose_closure(
            by=by,
            entry=entry,
            reason=ClosureReason.STUDYING_ELSEWHERE,
            evidence_text="外省学校在读证明",
        ),
        Action.APPROVE: lambda: services.entry_approve(by=by, entry=entry, comment="同意"),
        Action.REJECT: lambda: services.entry_reject(by=by, entry=entry, comment="证明不足"),
        Action.REOPEN: lambda: services.entry_reopen(by=by, entry=entry, note="又不来了"),
        Action.REVIEW: lambda: services.entry_review(by=by, entry=entry, note="仍在家"),
        Action.UPDATE: lambda: services.entry_update(
            by=by,
            entry=entry,
            reason=Reason.POVERTY,
            whereabouts=Whereabouts.WORKING,
            note="随父母外出",
        ),
    }
    return calls[action]()


def _state_after(action, entry) -> State:
    target = TRANSITIONS[action].target
    if target is not None:
        return target
    if action == Action.REJECT:
        return State(entry.proposed_from)
    if action == Action.REOPEN:
        return REOPENED_STATE[State(entry.state)]
    return State(entry.state)


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_action_from_every_state_by_every_role_is_allowed_or_refused_with_the_reason(
    world, child, action, state
):
    """The services follow the table: an allowed action moves the entry and writes its
    timeline line; a role not allowed or a wrong state is refused, naming which, and changes
    nothing. The detail page offers exactly the allowed actions."""
    entry = entry_in(world, state, child)
    transition = TRANSITIONS[action]
    for role, username in ROLE_USERS.items():
        by = world.user(username)
        before = footprint(entry)
        role_ok, state_ok = role in transition.roles, state in transition.sources
        assert (action in permissions.possible_actions(by, entry)) == (role_ok and state_ok)
        with transaction.atomic():
            if role_ok and state_ok:
                result = _call(world, action, by, entry)
                assert result.state == _state_after(action, entry), role
                event = result.events.order_by("-id").first()
                assert (event.action, event.state_before, event.state_after) == (
                    action,
                    state,
                    result.state,
                )
                assert event.actor == by
                assert len(footprint(entry)[1]) == len(before[1]) + 1
            else:
                with pytest.raises(AppError) as refused:
                    _call(world, action, by, entry)
                if not role_ok:
                    expected = f"当前账号的角色不能对台账记录执行“{action.label}”。"
                else:
                    expected = f"台账记录状态为“{state.label}”，不能执行“{action.label}”。"
                assert refused.value.message == expected, role
                assert footprint(entry) == before, role
            transaction.set_rollback(True)


def test_the_table_keeps_the_rules_of_domain_section_5():
    """Closure is approved or sent back by the county only; the county names the township;
    closed entries are final (no action leaves 已销号)."""
    county = {"county_staff", "county_admin"}
    assert {str(r) for r in TRANSITIONS[Action.APPROVE].roles} == county
    assert {str(r) for r in TRANSITIONS[Action.REJECT].roles} == county
    assert {str(r) for r in TRANSITIONS[Action.ASSIGN].roles} == county
    assert all(State.CLOSED not in t.sources for t in TRANSITIONS.values())
    assert REOPENED_STATE == {State.EXCLUDED: State.PENDING, State.RETURNED: State.CONFIRMED}


# -- what each transition does -----------------------------------------------------------------


def test_exclude_needs_a_note_and_leaves_the_xueji_alone(world, child):
    entry = create_entry(world, child)
    before = footprint(entry)
    with pytest.raises(AppError) as refused:
        services.entry_exclude(by=world.user(SCHOOL_USER), entry=entry, note="  ")
    assert "note" in refused.value.errors and footprint(entry) == before
    entry = services.entry_exclude(by=world.user(SCHOOL_USER), entry=entry, note="病假")
    assert entry.state == State.EXCLUDED and not entry.is_open
    child.refresh_from_db()
    assert child.status == Status.ENROLLED
    assert not child.events.filter(kind=EventKind.DROP_OUT).exists()


def test_confirm_turns_suspected_into_dropout_and_records_the_dropout_xueji_event(world, child):
    """人账相符: a confirmed dropout's 学籍 says 辍学, so the check finds nothing."""
    entry = create_entry(world, child)
    assert (entry.kind, entry.state) == (EntryKind.SUSPECTED, State.PENDING)
    entry = services.entry_confirm(by=world.user(SCHOOL_USER), entry=entry)
    entry = fresh(entry)
    assert (entry.kind, entry.state) == (EntryKind.DROPOUT, State.CONFIRMED)
    child.refresh_from_db()
    assert child.status == Status.DROPPED_OUT
    assert child.events.filter(kind=EventKind.DROP_OUT).count() == 1
    assert consistency.for_user(world.user(APPROVER)) == []


def test_a_dropout_entry_records_the_dropout_event_at_creation(world, child):
    entry = create_entry(world, child, kind=EntryKind.DROPOUT)
    assert entry.state == State.CONFIRMED
    child.refresh_from_db()
    assert child.status == Status.DROPPED_OUT
    assert consistency.for_user(world.user(APPROVER)) == []


def test_assign_sets_the_responsible_township_inside_the_county_only(world, child):
    entry = entry_in(world, State.CONFIRMED, child)
    county = world.user(COUNTY_USER)
    before = footprint(entry)
    for elsewhere, message in (
        (township(world, "c2_xz1_ganbu"), "管辖范围"),
        (world.user("xz2_cungan").region, "请选择负责劝返的乡镇"),  # a village
        (None, "请选择负责劝返的乡镇"),
    ):
        with pytest.raises(AppError, match=message):
            services.entry_assign(by=county, entry=entry, township=elsewhere)
        assert footprint(entry) == before
    second = township(world, "xz2_ganbu")
    entry = services.entry_assign(by=county, entry=entry, township=second, note="镇长包保")
    assert (fresh(entry).township, entry.state) == (second, State.PERSUADING)
    assert entry.events.order_by("-id")[0].note == f"责任乡镇：{second.name}。镇长包保。"
    # The newly responsible township now sees the entry.
    assert entry in services.LedgerEntry.objects.for_user(world.user("xz2_ganbu"))


def test_return_records_resume_in_xueji(world, child):
    entry = entry_in(world, State.PERSUADING, child)
    with pytest.raises(AppError, match="复学情况"):
        services.entry_return(by=world.user(SCHOOL_USER), entry=entry, note="")
    entry = services.entry_return(by=world.user("xz1_ganbu"), entry=entry, note="已回原班")
    assert entry.state == State.RETURNED and entry.is_open
    child.refresh_from_db()
    assert child.status == Status.ENROLLED
    assert list(child.events.order_by("id").values_list("kind", flat=True)) == [
        EventKind.ENROL,
        EventKind.DROP_OUT,
        EventKind.RESUME,
    ]
    assert consistency.for_user(world.user(APPROVER)) == []


def test_reopen_of_an_exclusion_goes_back_to_pending(world, child):
    entry = entry_in(world, State.EXCLUDED, child)
    with pytest.raises(AppError, match="原因"):
        services.entry_reopen(by=world.user(SCHOOL_USER), entry=entry, note="")
    entry = services.entry_reopen(by=world.user(SCHOOL_USER), entry=entry, note="排除有误")
    assert (entry.state, entry.kind) == (State.PENDING, EntryKind.SUSPECTED)
    child.refresh_from_db()
    assert child.status == Status.ENROLLED


def test_reopen_of_a_returned_child_makes_them_a_dropout_again(world, child):
    entry = entry_in(world, State.RETURNED, child)
    entry = services.entry_reopen(by=world.user(APPROVER), entry=entry, note="复学后又辍学")
    assert entry.state == State.CONFIRMED
    child.refresh_from_db()
    assert child.status == Status.DROPPED_OUT
    assert child.events.filter(kind=EventKind.DROP_OUT).count() == 2
    assert consistency.for_user(world.user(APPROVER)) == []


def test_reopen_is_refused_while_the_child_has_another_open_entry(world, child):
    excluded = entry_in(world, State.EXCLUDED, child)
    user = world.user(SCHOOL_USER)
    assert Action.REOPEN in permissions.possible_actions(user, excluded)
    create_entry(world, child)
    assert Action.REOPEN not in permissions.possible_actions(user, excluded), "not offered"
    before = footprint(excluded)
    with pytest.raises(AppError, match="另一条在册"):
        services.entry_reopen(by=world.user(SCHOOL_USER), entry=excluded, note="排除有误")
    assert footprint(excluded) == before


def test_a_failing_xueji_change_rolls_the_ledger_action_back(world, child):
    """A returned child who has since died cannot be made a dropout again: 学籍 refuses,
    and the entry stays as it was."""
    entry = entry_in(world, State.RETURNED, child)
    student_services.event_record(
        by=world.user(SCHOOL_USER),
        student=child,
        kind=EventKind.DEATH,
        date=timezone.localdate(),
        reason="病故",
    )
    before = footprint(entry)
    with pytest.raises(AppError, match="死亡"):
        services.entry_reopen(by=world.user(APPROVER), entry=entry, note="又不来了")
    assert footprint(entry) == before


def test_update_changes_reasons_and_measures_and_says_what_changed(world, child):
    entry = entry_in(world, State.CONFIRMED, child)
    by = world.user("xz1_cungan")
    events = entry.events.count()
    # Nothing new and no note: no timeline line.
    services.entry_update(by=by, entry=entry, reason=entry.reason, whereabouts=entry.whereabouts)
    assert entry.events.count() == events
    entry = services.entry_update(
        by=by,
        entry=entry,
        reason=Reason.WORK,
        whereabouts=Whereabouts.WORKING,
        other_reasons=[Reason.POVERTY, Reason.WORK],
        measures="乡镇干部三次家访",
    )
    entry = fresh(entry)
    assert (entry.reason, entry.whereabouts, entry.other_reasons) == (
        Reason.WORK,
        Whereabouts.WORKING,
        [Reason.POVERTY],
    )
    note = entry.events.order_by("-id")[0].note
    assert "主要辍学原因" in note and "控辍保学措施" in note
    with pytest.raises(AppError, match="辍学原因"):
        services.entry_update(by=by, entry=entry, reason="bored", whereabouts=Whereabouts.AT_HOME)
    assert fresh(entry).reason == Reason.WORK
