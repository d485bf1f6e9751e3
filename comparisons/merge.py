"""The comparisons' part of merging two student records (students.hooks): mismatches about
the merged record move to the kept one. Dispositions are append-only and stay as they were
made (on the merged record, which resolves to the kept one); the MergeRecord says so."""

from students.hooks import Moved, on_merge

from .models import Mismatch, MismatchDisposition


@on_merge
def move_mismatches(*, by, keep, merged) -> Moved:
    moved = Mismatch.objects.filter(student=merged).update(student=keep)
    kept = MismatchDisposition.objects.filter(student=merged).count()
    notes = [f"{kept}条比对处理记录保留在被合并的记录上（只能追加）。"] if kept else []
    return Moved({"比对不一致": moved}, notes)
