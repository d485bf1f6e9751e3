"""Merging two records of the same child (issue 13 rule 4): the one write path, called as
``students.services.student_merge``.

How the history survives. 学籍 events are append-only (the ORM refuses edits and, on
PostgreSQL, a trigger refuses UPDATE), so they are not re-pointed: the merged record stays,
with its own events, and is closed by one more event, 合并重复记录, which leaves it in the
status 已合并 (``students.transitions``) and sets ``merged_into`` to the kept record. Every
read of the kept record's 学籍 history (``history``) takes the events of the records merged
into it as well; the merged record is not listed (``students.selectors.students``), accepts
no writes, and its page redirects to the kept record. Rows that may change are re-pointed to
the kept record: guardians (those with the same name and phone as one of the kept record's
are not added twice), transfer requests, and through ``students.hooks`` the higher apps' rows
(ledger entries, attendance marks, comparison mismatches; 劝返 cases follow their entries).
A ``MergeRecord`` keeps who, when, why, what moved, which fields of the kept record were
filled from the merged one, and the merged record as it was — nothing is lost, and the merge
can be explained.

Refused, with the reason: numbers that disagree (two different ID numbers, or 学籍号: one
child has one of each — correct the wrong one first, or answer 不是同一人), a pending
transfer of the merged record, records of two counties, and whatever a mover refuses (both
records with an open ledger entry: close the duplicate one first as 信息错误/重复).
"""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import AuditAction
from accounts.models import User
from accounts.permissions import require
from kongchuo.errors import AppError

from . import hooks, services
from .choices import EventKind, KeyGroup, TransferStatus
from .identity import normalise_id_number, validate_id_number
from .matching import name_key
from .models import EnrollmentEvent, Guardian, MergeRecord, Student, Transfer
from .permissions import MERGE

# The kept record's fields that the merged one fills when the kept one has none.
_FILLED = ("student_number", "hukou_region", "address", "entry_date")


def history(student: Student) -> QuerySet[EnrollmentEvent]:
    """The 学籍 events of ``student`` and of every record merged into it, oldest first."""
    return EnrollmentEvent.objects.filter(
        Q(student=student) | Q(student__merged_into=student)
    ).order_by("date", "id")


def merges(student: Student) -> QuerySet[MergeRecord]:
    """The merges that explain ``student``: those into it or into a record merged into it."""
    return MergeRecord.objects.filter(Q(kept=student) | Q(kept__merged_into=student))


def _locked(keep: Student, merged: Student) -> tuple[Student, Student]:
    """Both records again, locked in the order of their ids (two merges never deadlock)."""
    found = {
        student.pk: student
        for student in Student.objects.select_for_update(of=("self",))
        .select_related("school__township", "klass")
        .filter(pk__in=[keep.pk, merged.pk])
        .order_by("pk")
    }
    return found[keep.pk], found[merged.pk]


def _check(by: User, keep: Student, merged: Student, reason: str) -> None:
    if not reason:
        raise AppError("请填写合并原因。", field="reason")
    for student in (keep, merged):
        if not jurisdiction.contains(by, student):
            raise AppError("该学生不在您的管辖范围内。")
        require(by, MERGE, student)
        if student.merged_into_id:
            raise AppError(f"{student.name}的记录已合并到另一条记录，不能再合并。", field="keep")
    if keep.school.township.code[:6] != merged.school.township.code[:6]:
        raise AppError("两条记录的学校不在同一个县，不能合并。", field="keep")
    for key in ("id_number", "student_number"):
        mine, theirs = (
            normalise_id_number(getattr(keep, key)),
            normalise_id_number(getattr(merged, key)),
        )
        if mine and theirs and mine != theirs:
            what = Student._meta.get_field(key).verbose_name
            raise AppError(
                f"两条记录的{what}不同，不能合并：一个孩子只有一个{what}。请先核对并更正错误的"
                "一条再合并；如确是两个孩子，请选择“不是同一人”。",
                field="keep",
            )
    if merged.transfers.filter(status=TransferStatus.PENDING).exists():
        raise AppError(
            f"{merged.name}（要合并的记录）有一条待接收的转学申请：请先处理该申请再合并。",
            field="keep",
        )


def _fill(keep: Student, merged: Student) -> list[str]:
    """Fill what the kept record lacks from the merged one (not saved); the labels filled."""
    filled = []
    number = normalise_id_number(merged.id_number)
    if number and not keep.id_number:
        try:
            keep.id_number = validate_id_number(
                number, birth_date=keep.birth_date, gender=keep.gender
            )
        except AppError as exc:
            raise AppError(
                f"保留的记录将补上要合并记录的身份证号，但{exc.message}请先核对两条记录。",
                field="keep",
            ) from None
        filled.append("身份证号")
    elif keep.id_number:
        keep.id_number = normalise_id_number(keep.id_number)
    for name in _FILLED:
        if not getattr(keep, name) and getattr(merged, name):
            setattr(keep, name, getattr(merged, name))
            filled.append(Student._meta.get_field(name).verbose_name)
    klass = merged.klass
    if (
        keep.klass_id is None
        and klass
        and (klass.school_id, klass.grade)
        == (
            keep.school_id,
            keep.grade,
        )
    ):
        keep.klass = klass
        filled.append("班级")
    for group in KeyGroup:
        if getattr(merged, group.value) and not getattr(keep, group.value):
            setattr(keep, group.value, True)
            filled.append(group.label)
    if keep.disabled and not keep.disability_type and merged.disability_type:
        keep.disability_type, keep.disability_grade = (
            merged.disability_type,
            merged.disability_grade,
        )
        filled.append("残疾类型")
    return filled


def _move_guardians(keep: Student, merged: Student) -> hooks.Moved:
    """The merged record's guardians join the kept one's, except one with the same name and
    phone as a guardian already there (their rows stay in the MergeRecord's snapshot)."""
    known = {(name_key(g.name), g.phone) for g in keep.guardians.all()}
    moving, same = [], []
    for guardian in merged.guardians.all():
        key = (name_key(guardian.name), guardian.phone)
        (same if key in known else moving).append(guardian.pk)
        known.add(key)
    Guardian.objects.filter(pk__in=moving).update(student=keep)
    Guardian.objects.filter(pk__in=same).delete()
    notes = [f"{len(same)}位监护人与保留记录的监护人相同（姓名、电话一致），未重复添加。"]
    return hooks.Moved({"监护人": len(moving)}, notes if same else [])


def _move_own(keep: Student, merged: Student) -> hooks.Moved:
    """The students app's own rows: guardians, transfer requests; the 学籍 events stay."""
    moved = _move_guardians(keep, merged)
    transfers = Transfer.objects.filter(student=merged).update(student=keep)
    events = merged.events.count()
    moved.add(
        hooks.Moved(
            {"转学申请": transfers},
            [
                f"{events}条学籍异动保留在被合并的记录上（只能追加），在保留记录的学籍档案中一并显示。"
            ],
        )
    )
    return moved


def _snapshot(merged: Student) -> dict:
    return {
        **audit.snapshot(merged),
        "school_name": merged.school.name,
        "guardians": [
            {"name": g.name, "relation": g.relation, "phone": g.phone}
            for g in merged.guardians.all()
        ],
    }


@transaction.atomic
def merge_students(*, by: User, keep: Student, merged: Student, reason: str) -> MergeRecord:
    """Merge ``merged`` into ``keep`` (both the same child): see the module's docstring."""
    require(by, MERGE)
    reason = (reason or "").strip()[:200]
    if keep.pk == merged.pk:
        raise AppError("请选择两条不同的学生记录。", field="keep")
    keep, merged = _locked(keep, merged)
    _check(by, keep, merged, reason)
    snapshot = _snapshot(merged)
    before = audit.snapshot(keep)
    moved = _move_own(keep, merged)
    moved.add(hooks.move_all(by=by, keep=keep, merged=merged))
    filled = _fill(keep, merged)
    # The numbers first leave the merged record (each is unique), then the kept one takes them.
    # updated_at by hand, as UPDATE sets no auto_now: a mirror syncing changes since a
    # moment (issue 19 §5) must see both records change.
    now = timezone.now()
    Student.objects.filter(pk=merged.pk).update(
        id_number=None,
        id_hash=None,
        id_masked="",
        student_number=None,
        merged_into=keep,
        updated_at=now,
    )
    Student.objects.filter(merged_into=merged).update(merged_into=keep, updated_at=now)
    keep.save()
    services._status_change(  # the one writer of a status and its 学籍 event
        by=by,
        student=merged,
        kind=EventKind.MERGE,
        date=timezone.localdate(),
        reason=f"重复记录，已合并到{keep.school.name}{keep.name}的学生记录：{reason}"[:200],
    )
    record = MergeRecord.objects.create(
        kept=keep,
        merged=merged,
        by=by,
        reason=reason,
        snapshot=snapshot,
        moved={label: count for label, count in moved.counts.items() if count},
        filled=filled,
        notes=moved.notes,
    )
    detail = f"合并重复记录：{merged.name}（编号{merged.pk}）并入本记录。原因：{reason}"
    audit.record_change(actor=by, instance=keep, before=before, detail=detail)
    audit.record(
        actor=by,
        action=AuditAction.UPDATE,
        obj=merged,
        detail=f"重复记录已合并到{keep.name}（编号{keep.pk}）。原因：{reason}",
    )
    merged.refresh_from_db()
    return record


def summary(record: MergeRecord) -> str:
    """What a merge did, in one sentence for the page's message."""
    moved = "、".join(f"{label}{count}条" for label, count in record.moved.items()) or "无"
    filled = "、".join(record.filled)
    text = f"已将{record.merged.name}（{record.snapshot.get('school_name', '')}）合并到本记录。转移：{moved}。"
    if filled:
        text += f"补充了保留记录的{filled}。"
    return text + "".join(record.notes)
