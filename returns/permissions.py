"""The 劝返 case's permission actions (accounts.permissions): ``returns.<action>`` for each
action of the table (returns.transitions), decided by the role, the case's state, and who
works the case (DOMAIN.md §7): the responsible township(s) and the team act; the county,
the school and the school's own township, when it is another one, only read."""

from accounts import permissions
from accounts.permissions import can
from ledger.choices import Action as LedgerAction
from ledger.permissions import key as ledger_key
from ledger.permissions import township_of
from ledger.transitions import COUNTY, TOWNSHIP

from .choices import Action
from .transitions import TEAM, TRANSITIONS, refusal


def key(action: Action) -> str:
    """The permission action of a case action: ``returns.acknowledge``."""
    return f"returns.{action.value}"


def townships(case) -> set[int]:
    """The responsible township and the one working the case with it."""
    return {pk for pk in (case.township_id, case.co_township_id) if pk is not None}


def works_on(user, case) -> bool:
    """Whether ``user`` works ``case``: on its team, an account of a responsible township, or
    of the county while it holds the case itself."""
    prefetched = getattr(case, "_prefetched_objects_cache", {}).get("members")
    if prefetched is not None:  # a page or API detail loaded the team: no query per action
        if any(member.user_id == user.pk for member in prefetched):
            return True
    elif case.members.filter(user_id=user.pk).exists():
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


def _moves_entry(user, case) -> str | None:
    # 登记复学 moves the ledger entry too: the ledger's own rule decides who may (its 劝返主体
    # or the county), so a team member or the co-township records visits but not the return.
    return permissions.refusal(user, ledger_key(LedgerAction.RETURN), case.entry)


_FURTHER = {Action.ACKNOWLEDGE: _signs, Action.RETURN: _moves_entry}
NOT_WORKER = "只有责任乡镇和包保人员可以办理该劝返案件，本账号只能查看。"


def who_refusal(user, case, action: Action) -> str | None:
    """Why ``user`` may not take ``action`` on ``case`` whatever the case's state (their role,
    or they do not work the case), or None. The API answers this with 403 and leaves the
    state to the service's 400."""
    reason = refusal(action, None, user)
    if reason is None and action in _FURTHER:
        reason = _FURTHER[action](user, case)
    if reason is None and TRANSITIONS[action].workers and not works_on(user, case):
        reason = NOT_WORKER
    return reason


def _decide(action: Action):
    def decide(user, case=None) -> str | None:
        # OPEN is asked with the ledger entry (there is no case yet): the role decides.
        if case is None or action == Action.OPEN:
            return refusal(action, None, user)
        return refusal(action, case.state, user) or who_refusal(user, case, action)

    return decide


def possible_actions(user, case) -> list[Action]:
    """What ``user`` may do to ``case`` now, in the table's order (the page's buttons, the
    API's ``possible_actions``)."""
    return [
        action for action in TRANSITIONS if action != Action.OPEN and can(user, key(action), case)
    ]


for _action in TRANSITIONS:
    permissions.register(key(_action), _decide(_action))


# The case's printed documents (returns.documents): printed by those who work the case and
# by the county; anyone who sees the case may download them. The county prints in batches.
DOCUMENT = "returns.document"
DOCUMENT_BATCH = "returns.document_batch"


def _prints(user, case=None) -> str | None:
    if user.role in COUNTY:
        return None
    if user.role not in TEAM:
        return "当前账号的角色不能生成劝返文书。"
    if case is not None and not works_on(user, case):
        return "只有办理该劝返案件的人员和县教体局可以生成文书。"
    return None


permissions.register(DOCUMENT, _prints)
permissions.register(
    DOCUMENT_BATCH, permissions.by_roles(COUNTY, "批量生成劝返文书由县教体局的账号办理。")
)
