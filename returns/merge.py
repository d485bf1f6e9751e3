"""The 劝返 cases' part of merging two student records (students.hooks): a case hangs on its
ledger entry, which the ledger's mover moves to the kept record, so the cases follow without
a write; this mover runs before the ledger's (higher apps first) and counts them for the
MergeRecord."""

from students.hooks import Moved, on_merge

from .models import ReturnCase


@on_merge
def count_cases(*, by, keep, merged) -> Moved:
    return Moved({"劝返案件": ReturnCase.objects.filter(entry__student=merged).count()})
