"""The 劝返 case's permission actions (accounts.permissions): ``returns.<action>`` for each
action of the table (returns.transitions), decided by the role, the case's state, and who
works the case (DOMAIN.md §7): the responsible township(s) and the team act; the county,
the school and the school's own township, when it is another one, only read."""

from accounts import permissions
from accounts.permissions import can
from ledger.permissions import township_of
from ledger.transitions import COUNTY, TOWNSHIP

from .choices import Action
from .transitions import TRANSITIONS, refusal


def key(action: Action) -> str:
    """The permission action of a case action: ``returns.acknowledge``."""
    return f"returns.{action.value}"


def townships(case) -> set[int]:
    """The responsible township and the one working the case with it."""
    return {pk for pk in (case.township_id, case.co_township_id) if pk is not None}


def works_on(user, case) -> bool:
    """Whether ``user`` works ``case``: on its team, an account of a responsible township, or
    of the county while it holds the case itself."""
    if case.members.filter(user_id=user.pk).exists():
        return True
    if user.role in TOWNSHIP:
        return township_of(user) in townships(case)
    if user.role in COUNTY:
        return case.township_id is None and user.region_id == case.county_id
    return False


def _signs(user, case) -> str | None:
    # The instruction went to the township(s), not to the team.
    if township_of(user) not in townships(case):
        return "劝返指令由责任乡镇的乡镇干部签收。"
    return None


_FURTHER = {Action.ACKNOWLEDGE: _signs}
NOT_WORKER = "只有责任乡镇和包保人员可以办理该劝返案件，本账号只能查看。"


def _decide(action: Action):
    transition = TRANSITIONS[action]

    def decide(user, case=None) -> str | None:
        # OPEN is asked with the ledger entry (there is no case yet): the role decides.
        on_case = case is not None and action != Action.OPEN
        reason = refusal(action, case.state if on_case else None, user)
        if reason is None and on_case and action in _FURTHER:
            reason = _FURTHER[action](user, case)
        if reason is None and on_case and transition.workers and not works_on(user, case):
            reason = NOT_WORKER
        return reason

    return decide


def possible_actions(user, case) -> list[Action]:
    """What ``user`` may do to ``case`` now, in the table's order (the page's buttons, the
    API's ``possible_actions``)."""
    return [
        action for action in TRANSITIONS if action != Action.OPEN and can(user, key(action), case)
    ]


for _action in TRANSITIONS:
    permissions.register(key(_action), _decide(_action))
