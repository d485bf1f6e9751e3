"""The hook through which the apps above students move their rows when two student records
are merged (students.merge; STYLE.md §4: a lower app never imports a higher one).

Each app that keeps rows about a student (ledger entries, attendance marks, 劝返 cases,
comparison mismatches) registers a mover in its ``ready()`` with ``on_merge``. A mover is
called inside the merge's transaction as ``mover(*, by, keep, merged) -> Moved``: it re-points
its rows from ``merged`` to ``keep`` (or tells why some stay), and may raise AppError to refuse
the whole merge (nothing is then written). Movers run in the reverse order of registration,
so the apps highest up go first: their rows hang on the lower apps' rows (a case on its ledger
entry), and they count them before those move.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Moved:
    """What a mover did: ``counts`` of rows moved by what they are (“台账记录”), and
    ``notes`` for whatever a conflict left behind and why (kept in the MergeRecord)."""

    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, other: "Moved") -> None:
        for label, count in other.counts.items():
            self.counts[label] = self.counts.get(label, 0) + count
        self.notes.extend(other.notes)


Mover = Callable[..., Moved]
_MOVERS: list[Mover] = []


def on_merge(mover: Mover) -> Mover:
    """Register ``mover(*, by, keep, merged) -> Moved``, once."""
    if mover not in _MOVERS:
        _MOVERS.append(mover)
    return mover


def move_all(*, by, keep, merged) -> Moved:
    """Run every registered mover (students.merge calls this, in its transaction)."""
    moved = Moved()
    for mover in reversed(_MOVERS):
        moved.add(mover(by=by, keep=keep, merged=merged))
    return moved
