"""The ledger's state machine: for each action, the states it starts from, the state it
leaves, and the roles that may take it. One table; the services consult it, the detail page
offers what it allows, and the tests iterate it.

    待核实 ──确认──▶ 已确认辍学 ──落实劝返主体──▶ 劝返中 ──登记复学──▶ 已复学（跟踪）
      │                 │                      │                     │
      └─核实排除─▶ 已排除   └──────────申请销号──────┴─────────────────────┘
                                        ▼
                                   销号待审核 ──批准──▶ 已销号
                                        └──退回──▶ (the state it was proposed from)
"""

from dataclasses import dataclass

from accounts.choices import Role

from .choices import OPEN_STATES, Action, State

SCHOOL = frozenset({Role.PRINCIPAL, Role.SCHOOL_STAFF})
TOWNSHIP = frozenset({Role.TOWNSHIP_OFFICIAL, Role.VILLAGE_CADRE})
COUNTY = frozenset({Role.COUNTY_STAFF, Role.COUNTY_ADMIN})

# Who may put a child on the ledger: the school that finds them, the township that visits,
# the county that keeps the ledger, and the systems that sync comparison results.
CREATORS = SCHOOL | TOWNSHIP | COUNTY | {Role.API_CLIENT}

_WORKING = frozenset({State.CONFIRMED, State.PERSUADING, State.RETURNED})


@dataclass(frozen=True)
class Transition:
    sources: frozenset
    # None: the state does not change (a review or an update), or it is worked out by the
    # service (a rejected proposal returns to where it came from; a reopen depends on it).
    target: State | None
    roles: frozenset


TRANSITIONS: dict[Action, Transition] = {
    Action.EXCLUDE: Transition(frozenset({State.PENDING}), State.EXCLUDED, SCHOOL | COUNTY),
    Action.CONFIRM: Transition(frozenset({State.PENDING}), State.CONFIRMED, SCHOOL | COUNTY),
    Action.ASSIGN: Transition(
        frozenset({State.CONFIRMED, State.PERSUADING}), State.PERSUADING, COUNTY
    ),
    Action.RETURN: Transition(
        frozenset({State.CONFIRMED, State.PERSUADING}), State.RETURNED, SCHOOL | TOWNSHIP | COUNTY
    ),
    Action.PROPOSE: Transition(_WORKING, State.PROPOSED, SCHOOL | TOWNSHIP | COUNTY),
    Action.APPROVE: Transition(frozenset({State.PROPOSED}), State.CLOSED, COUNTY),
    Action.REJECT: Transition(frozenset({State.PROPOSED}), None, COUNTY),
    # An exclusion made in error goes back to be checked; a returned child who stops coming
    # during the follow-up is a dropout again.
    Action.REOPEN: Transition(frozenset({State.EXCLUDED, State.RETURNED}), None, SCHOOL | COUNTY),
    Action.REVIEW: Transition(OPEN_STATES, None, SCHOOL | TOWNSHIP | COUNTY),
    Action.UPDATE: Transition(OPEN_STATES, None, SCHOOL | TOWNSHIP | COUNTY),
}

REOPENED_STATE = {State.EXCLUDED: State.PENDING, State.RETURNED: State.CONFIRMED}


def refusal(action: Action, state: State | None, user) -> str | None:
    """Why ``user``'s role cannot take ``action`` on an entry in ``state`` (None: whatever
    the state), or None when it can. The permission action ``ledger.<action>`` asks this
    (ledger.permissions); the area is checked apart."""
    transition = TRANSITIONS[action]
    if user.role not in transition.roles:
        return f"当前账号的角色不能对台账记录执行“{action.label}”。"
    if state is not None and state not in transition.sources:
        return f"台账记录状态为“{State(state).label}”，不能执行“{action.label}”。"
    return None
