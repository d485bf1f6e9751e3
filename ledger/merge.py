"""The ledger's part of merging two student records (students.hooks, students.merge): the
merged record's entries move to the kept record, each with an audit line saying so. The
entries keep the child as they were when put on the ledger (name, ID number, school).

Conflict: one child has at most one open entry. When both records have one, the merge is
refused — one of the two entries is itself the duplicate and is closed first by the ledger's
own rule, a 销号 proposal with the reason 信息错误/重复 that the county approves — so that no
entry is closed without its proposer and approver."""

from django.utils import timezone

from accounts import audit
from accounts.choices import AuditAction
from kongchuo.errors import AppError
from students.hooks import Moved, on_merge

from .choices import OPEN_STATES, ClosureReason
from .models import LedgerEntry


@on_merge
def move_entries(*, by, keep, merged) -> Moved:
    entries = list(LedgerEntry.objects.filter(student=merged).select_related("township"))
    if (
        any(entry.is_open for entry in entries)
        and keep.ledger_entries.filter(state__in=OPEN_STATES).exists()
    ):
        raise AppError(
            "两条记录都有未销号的台账记录，不能合并：请先将其中重复的一条以"
            f"“{ClosureReason.ERROR.label}”申请销号（经县级审核），再合并。",
            field="keep",
        )
    LedgerEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        student=keep, updated_at=timezone.now()
    )
    for entry in entries:
        audit.record(
            actor=by,
            action=AuditAction.UPDATE,
            obj=entry,
            changes={"student_id": [merged.pk, keep.pk]},
            detail=f"学生记录合并：由重复记录（编号{merged.pk}）转到保留的记录（编号{keep.pk}）",
        )
    return Moved({"台账记录": len(entries)})
