"""The case's state machine and the 四步法's step rules (issue 12 rule 4): every action of the
table from every state for every role, and each step rule."""

import datetime

import pytest

from accounts.permissions import can
from kongchuo.errors import AppError
from returns import permissions, services
from returns.choices import Action, CaseState, Duty, Step
from returns.transitions import TRANSITIONS, check_step
from tests.ledger.conftest import ROLE_USERS
from tests.returns.conftest import OFFICIAL, case_in, days, footprint, visit, working

pytestmark = pytest.mark.django_db

# Besides the officials and cadres of township xz1, the team (added where the state allows
# a team): a cadre of another township and the child's class teacher.
TEAM = {"xz2_ganbu": Duty.CADRE, "xz1_xx1_banzhuren": Duty.TEACHER}
TOWNSHIP_WORKERS = {"xz1_ganbu", "xz1_cungan"}


def _expected(action, state, username, role, workers) -> bool:
    transition = TRANSITIONS[action]
    if role not in transition.roles or state not in transition.sources:
        return False
    if action == Action.ACKNOWLEDGE:
        return username == OFFICIAL
    if action == Action.RETURN:  # it moves the ledger entry: the ledger's 劝返主体 registers it
        return username in TOWNSHIP_WORKERS
    return not transition.workers or username in workers


@pytest.mark.parametrize("state", list(CaseState))
def test_every_action_from_every_state_is_allowed_exactly_to_the_roles_and_workers_of_the_table(
    world, child, state
):
    case = case_in(world, state, child)
    workers = set(TOWNSHIP_WORKERS)
    if state in TRANSITIONS[Action.TEAM].sources:
        workers |= set(TEAM)
        services.team_set(
            by=world.user(OFFICIAL),
            case=case,
            members=[(world.user(name), duty) for name, duty in TEAM.items()],
        )
    usernames = [*ROLE_USERS.values(), "xz2_ganbu"]
    for action in TRANSITIONS:
        if action == Action.OPEN:
            continue
        for username in usernames:
            user = world.user(username)
            expected = _expected(action, state, username, user.role, workers)
            assert can(user, permissions.key(action), case) == expected, (action, username)


def test_a_refused_action_changes_nothing_and_names_why(world, child):
    case = case_in(world, CaseState.INSTRUCTED, child)
    before = footprint(case)
    with pytest.raises(AppError, match="待签收"):
        visit(world, case)
    with pytest.raises(AppError, match="不在您的管辖范围"):
        services.case_acknowledge(by=world.user("xz2_ganbu"), case=case)
    assert footprint(case) == before


TODAY = datetime.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("current", "target", "reason", "deadline", "current_deadline", "field"),
    [
        # going back, or staying, is refused
        (Step.ORDER, Step.PERSUASION, "", None, None, "step"),
        (Step.PENALTY, Step.PENALTY, "", None, None, "step"),
        # skipping forward needs a reason
        (Step.PERSUASION, Step.PENALTY, "", None, None, "reason"),
        # 责令改正 needs a deadline after today
        (Step.PERSUASION, Step.ORDER, "", None, None, "step_deadline"),
        (Step.PERSUASION, Step.ORDER, "", TODAY, None, "step_deadline"),
        # the step after 责令改正 waits for its deadline
        (Step.ORDER, Step.PENALTY, "", None, TODAY, "step"),
        (Step.ORDER, Step.COURT, "直接起诉", None, TODAY + datetime.timedelta(days=1), "step"),
        # not a step
        (Step.PERSUASION, 7, "", None, None, "step"),
    ],
)
def test_step_rules_refuse_naming_the_field(
    current, target, reason, deadline, current_deadline, field
):
    with pytest.raises(AppError) as refused:
        check_step(
            current=current,
            target=target,
            reason=reason,
            deadline=deadline,
            current_deadline=current_deadline,
            today=TODAY,
        )
    assert field in refused.value.errors


@pytest.mark.parametrize(
    ("current", "target", "reason", "deadline", "current_deadline"),
    [
        (Step.PERSUASION, Step.ORDER, "", TODAY + datetime.timedelta(days=7), None),
        (Step.ORDER, Step.PENALTY, "", None, TODAY - datetime.timedelta(days=1)),
        (Step.PERSUASION, Step.PENALTY, "监护人拒不配合，直接处罚", None, None),
        (Step.PENALTY, Step.COURT, "", None, None),
    ],
)
def test_step_rules_allow_forward_steps(current, target, reason, deadline, current_deadline):
    assert (
        check_step(
            current=current,
            target=target,
            reason=reason,
            deadline=deadline,
            current_deadline=current_deadline,
            today=TODAY,
        )
        == target
    )


def test_order_with_a_deadline_then_the_next_step_waits_until_it_has_passed(
    world, child, monkeypatch
):
    case = working(world, child)
    official = world.user(OFFICIAL)
    case = services.step_advance(by=official, case=case, step=Step.ORDER, deadline=days(7))
    assert case.step == Step.ORDER and case.step_deadline == days(7) and case.version == 3
    before = footprint(case)
    with pytest.raises(AppError, match="尚未届满"):
        services.step_advance(by=official, case=case, step=Step.PENALTY)
    assert footprint(case) == before
    with pytest.raises(AppError, match="不能回退"):
        services.step_advance(by=official, case=case, step=Step.PERSUASION)
    assert footprint(case) == before
    later = days(8)
    monkeypatch.setattr(services.timezone, "localdate", lambda: later)
    case = services.step_advance(by=official, case=case, step=Step.PENALTY)
    assert case.step == Step.PENALTY
    event = case.events.get(action=Action.STEP, step_after=Step.PENALTY)
    assert event.step_before == Step.ORDER


def test_return_does_not_wait_for_the_order_deadline(world, child):
    case = working(world, child)
    case = services.step_advance(
        by=world.user(OFFICIAL), case=case, step=Step.ORDER, deadline=days(7)
    )
    case = services.case_return(by=world.user(OFFICIAL), case=case, placement="regular")
    assert case.state == CaseState.RETURNED
