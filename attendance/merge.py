"""Attendance's part of merging two student records (students.hooks): the merged record's
marks move to the kept record.

Conflict: a day on which the kept record already has attendance — a mark of its own, or a
roll call of its class (which counted it present) — keeps the kept record's attendance; the
merged record's mark of that day is removed, and the MergeRecord lists it (date, status,
note), so nothing is lost. The kept record's class is its class now: a roll of a class it
left earlier is not looked at."""

from django.utils import timezone

from students.hooks import Moved, on_merge

from .models import AttendanceMark, RollCall


@on_merge
def move_marks(*, by, keep, merged) -> Moved:
    marks = list(AttendanceMark.objects.filter(student=merged).order_by("date", "id"))
    days = {mark.date for mark in marks}
    taken = set(
        AttendanceMark.objects.filter(student=keep, date__in=days).values_list("date", flat=True)
    )
    if keep.klass_id:
        taken |= set(
            RollCall.objects.filter(klass_id=keep.klass_id, date__in=days).values_list(
                "date", flat=True
            )
        )
    dropped = [mark for mark in marks if mark.date in taken]
    moving = [mark.pk for mark in marks if mark.date not in taken]
    AttendanceMark.objects.filter(pk__in=moving).update(student=keep)
    AttendanceMark.objects.filter(pk__in=[mark.pk for mark in dropped]).delete()
    # Those class-days now read differently (their marks name the kept record): changed,
    # for the attendance sync (issue 19 §5), which an UPDATE of the marks does not tell.
    RollCall.objects.filter(pk__in={mark.roll_id for mark in marks}).update(
        changed_at=timezone.now()
    )
    notes = [
        f"{mark.date:%Y-%m-%d}的考勤两条记录都有，以保留记录为准，去掉了重复记录的"
        f"“{mark.get_status_display()}”{f'（{mark.note}）' if mark.note else ''}。"
        for mark in dropped
    ]
    return Moved({"缺勤记录": len(moving)}, notes)
