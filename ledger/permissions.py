"""The ledger's permission actions (accounts.permissions): who may put a child on the ledger,
who sees the 人账相符 check, and ``ledger.<action>`` for each transition of the state machine,
decided by its table (ledger.transitions) and, on an entry, by its state and the few rules
that look further (nobody approves their own 销号 proposal; an entry is not reopened while
the child has another open one; a township acts only on the entries it persuades)."""

from accounts import permissions
from accounts.choices import RegionLevel
from accounts.permissions import can

from . import selectors
from .choices import Action
from .transitions import COUNTY, CREATORS, TOWNSHIP, TRANSITIONS, refusal

CREATE = "ledger.create"
CONSISTENCY = "ledger.consistency"


def key(action: Action) -> str:
    """The permission action of a state-machine action: ``ledger.confirm``."""
    return f"ledger.{action.value}"


def _own_proposal(user, entry) -> str | None:
    if selectors.proposer_of(entry) == user:
        return "不能审批自己提交的销号申请，请由县教体局其他工作人员审批。"
    return None


def _other_open_entry(user, entry) -> str | None:
    if selectors.has_other_open_entry(entry):
        return "该学生已有另一条在册台账记录，请在那条记录上处理。"
    return None


def township_of(user) -> int | None:
    """The township a township official or a village cadre works for (a cadre: the village's)."""
    region = user.region
    return region.parent_id if region.level == RegionLevel.VILLAGE else region.pk


def _other_township(user, entry) -> str | None:
    # The township of the child's school sees the entry (jurisdiction) but the 劝返主体 acts
    # on it (DOMAIN.md §7), as on the 劝返 case.
    if user.role in TOWNSHIP and township_of(user) != entry.township_id:
        return "该记录的劝返主体为其他乡镇，本乡镇只能查看，不能办理。"
    return None


_FURTHER = {Action.APPROVE: _own_proposal, Action.REOPEN: _other_open_entry}


def _transition(action: Action):
    def decide(user, entry=None) -> str | None:
        reason = refusal(action, entry.state if entry is not None else None, user)
        if reason is None and entry is not None:
            reason = _other_township(user, entry)
        if reason is None and entry is not None and action in _FURTHER:
            reason = _FURTHER[action](user, entry)
        return reason

    return decide


def possible_actions(user, entry) -> list[Action]:
    """What ``user`` may do to ``entry`` now, in the table's order (the entry page's buttons,
    the API's ``possible_actions``)."""
    return [action for action in TRANSITIONS if can(user, key(action), entry)]


permissions.register(CREATE, permissions.by_roles(CREATORS, "当前账号的角色不能登记台账记录。"))
permissions.register(CONSISTENCY, permissions.by_roles(COUNTY, "人账相符检查由县教体局查看。"))
for _action in TRANSITIONS:
    permissions.register(key(_action), _transition(_action))
