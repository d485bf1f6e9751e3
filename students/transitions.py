"""The 学籍 state machine: which event may follow which status, and what status it leaves.

One table; the services consult it and the tests iterate it. ``None`` as a source status
means "not yet in the system" (a first registration or a transfer in from outside).
"""

from .choices import EventKind, Status

_ACTIVE = frozenset({Status.ENROLLED, Status.HOME_TAUGHT})
_LIVING = frozenset(set(Status) - {Status.DECEASED, Status.MERGED})

# kind: (allowed source statuses, resulting status)
# A dropout's 销号 may leave them studying elsewhere (转出), deferred after the four steps
# (休学) or placed in home teaching (送教上门), not only back in class (DOMAIN.md §5, §7).
TRANSITIONS: dict[EventKind, tuple[frozenset, Status]] = {
    EventKind.ENROL: (frozenset({None}), Status.ENROLLED),
    EventKind.TRANSFER_IN: (frozenset({None, Status.TRANSFERRED_OUT}), Status.ENROLLED),
    EventKind.TRANSFER_OUT: (
        _ACTIVE | {Status.SUSPENDED, Status.DROPPED_OUT},
        Status.TRANSFERRED_OUT,
    ),
    EventKind.SUSPEND: (_ACTIVE | {Status.DROPPED_OUT}, Status.SUSPENDED),
    EventKind.RESUME: (frozenset({Status.SUSPENDED, Status.DROPPED_OUT}), Status.ENROLLED),
    EventKind.DROP_OUT: (_ACTIVE | {Status.SUSPENDED}, Status.DROPPED_OUT),
    EventKind.GRADUATE: (_ACTIVE, Status.GRADUATED),
    EventKind.DEATH: (_LIVING, Status.DECEASED),
    EventKind.HOME_TEACHING: (
        frozenset({Status.ENROLLED, Status.SUSPENDED, Status.DROPPED_OUT}),
        Status.HOME_TAUGHT,
    ),
    # Recorded by students.merge only (event_record refuses it), on the duplicate record.
    EventKind.MERGE: (frozenset(set(Status) - {Status.MERGED}), Status.MERGED),
}

# Only the last year of compulsory education ends in 毕业 (完成义务教育).
GRADUATION_GRADE = 9


def refusal(kind: EventKind, status: Status | None) -> str | None:
    """Why ``kind`` cannot follow ``status``, or None when it can."""
    allowed, _ = TRANSITIONS[kind]
    if status in allowed:
        return None
    if status == Status.DECEASED:
        return "该学生学籍状态为“死亡”，不能再登记任何学籍异动。"
    if status == Status.MERGED:
        return "该记录是已合并的重复记录，不能再登记学籍异动：请在保留的学生记录上登记。"
    current = Status(status).label if status else "未在系统中"
    return f"学籍状态为“{current}”的学生不能登记“{kind.label}”。"
