"""The 劝返 case's state machine and the 四步法's step rules: one table of actions with the
states each starts from, the state it leaves and the roles that may take it. The services
consult it, the pages offer what it allows, and the tests iterate it.

    下达指令 ─▶ 待签收 ─签收─▶ 劝返中 ─登记复学─▶ 已复学（跟踪） ─结案─▶ 已结案
                                  │
                                  └─延缓─▶ 延缓入学或休学（继续劝返） ─登记复学─▶ 已复学（跟踪）

改派 (reassign) sends an open, not yet returned case back to 待签收 for the new township.
A case the county holds (户籍地在县外) starts 劝返中: nobody is asked to sign for it.

``workers``: the action is taken only by those who work the case (returns.permissions
.works_on): the responsible township(s), the team, and the county while it holds the case.
"""

import datetime
from dataclasses import dataclass

from accounts.choices import SCHOOL_ROLES, Role
from kongchuo.errors import AppError
from ledger.transitions import COUNTY, TOWNSHIP

from .choices import Action, CaseState, Step

# The government line takes the legal steps and decides outcomes; teachers on the team record
# visits and plans too.
LEAD = TOWNSHIP | COUNTY
TEAM = LEAD | SCHOOL_ROLES

_ACTIVE = frozenset({CaseState.WORKING, CaseState.DEFERRED})
_ASSIGNED = frozenset({CaseState.INSTRUCTED}) | _ACTIVE
_WORKED = _ACTIVE | {CaseState.RETURNED}


@dataclass(frozen=True)
class Transition:
    # Empty for OPEN: there is no case yet (the ledger entry's state is checked instead).
    sources: frozenset
    # None: the state does not change, or the service works it out (a reassigned case waits
    # for the new township's signature unless the county keeps it).
    target: CaseState | None
    roles: frozenset
    workers: bool = True


TRANSITIONS: dict[Action, Transition] = {
    Action.OPEN: Transition(frozenset(), CaseState.INSTRUCTED, COUNTY, workers=False),
    Action.ACKNOWLEDGE: Transition(
        frozenset({CaseState.INSTRUCTED}), CaseState.WORKING, frozenset({Role.TOWNSHIP_OFFICIAL})
    ),
    Action.REASSIGN: Transition(_ASSIGNED, None, COUNTY, workers=False),
    Action.NOTICE: Transition(_ASSIGNED, None, LEAD),
    Action.TEAM: Transition(_WORKED, None, LEAD),
    Action.PLAN: Transition(_WORKED, None, TEAM),
    Action.ACTION: Transition(_WORKED, None, TEAM),
    Action.STEP: Transition(_ACTIVE, None, LEAD),
    Action.RETURN: Transition(_ACTIVE, CaseState.RETURNED, LEAD),
    Action.DEFER: Transition(frozenset({CaseState.WORKING}), CaseState.DEFERRED, LEAD),
    Action.CLOSE: Transition(frozenset({CaseState.RETURNED}), CaseState.CLOSED, LEAD),
}


def refusal(action: Action, state: str | None, user) -> str | None:
    """Why ``user``'s role cannot take ``action`` on a case in ``state`` (None: whatever the
    state), or None when it can. Who works the case is asked apart (returns.permissions)."""
    transition = TRANSITIONS[action]
    if user.role not in transition.roles:
        return f"当前账号的角色不能对劝返案件执行“{action.label}”。"
    if state is not None and state not in transition.sources:
        return f"劝返案件状态为“{CaseState(state).label}”，不能执行“{action.label}”。"
    return None


def check_step(
    *,
    current: int,
    target,
    reason: str,
    deadline: datetime.date | None,
    current_deadline: datetime.date | None,
    today: datetime.date,
) -> Step:
    """The 四步法's rules (003) for moving from step ``current`` to ``target``: forward only;
    skipping a step needs a reason; 责令改正 needs a deadline after today; the step after
    责令改正 waits until its deadline has passed (a child who returns meanwhile ends the case
    with 登记复学, which never waits)."""
    try:
        target = Step(int(target))
    except (TypeError, ValueError):
        raise AppError("请选择劝返步骤。", field="step") from None
    if target <= current:
        raise AppError(f"劝返步骤不能回退或重复：当前已是“{Step(current).label}”。", field="step")
    skipped = [step.label for step in Step if current < step < target]
    if skipped and not reason.strip():
        raise AppError(f"跳过“{'、'.join(skipped)}”须填写理由。", field="reason")
    if target == Step.ORDER:
        if deadline is None:
            raise AppError("责令改正须填写限期改正的截止日期。", field="step_deadline")
        if deadline <= today:
            raise AppError("责令改正的截止日期应晚于今天。", field="step_deadline")
    if current == Step.ORDER and current_deadline is not None and today <= current_deadline:
        raise AppError(
            f"责令限期改正的期限（{current_deadline:%Y-%m-%d}）尚未届满，不能进入下一步。",
            field="step",
        )
    return target
