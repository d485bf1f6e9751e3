"""What users do with a comparison's results (issue 13): record what was done about a
mismatch (a disposition, with who and when), and the one-click follow-ups — a 未入学 ledger
entry, a corrected key-group flag, a link to an existing student — each made by the owning
app's one service (ledger.services.entry_create, students.services.student_update), never a
second copy of its rules.

A disposition is kept per county and mismatch ``key`` with the ``fingerprint`` of the data it
was made on; the engine hands it to the same disagreement of the next run while that data
stays the same, so what was dealt with stays dealt with."""

from django.db import transaction
from django.db.models import TextChoices

from accounts import audit, jurisdiction
from accounts.choices import AuditAction, Capability
from accounts.models import User
from accounts.permissions import can, require
from kongchuo.errors import AppError
from ledger import permissions as ledger_permissions
from ledger import services as ledger_services
from ledger.choices import EntryKind
from ledger.choices import Source as EntrySource
from ledger.models import LedgerEntry
from students import services as student_services
from students.choices import KeyGroup
from students.models import Student

from . import permissions
from .choices import Disposition, MismatchKind, Strength
from .models import Mismatch, MismatchDisposition

NOTE_MAX = 2000
# The key-group flags a list can correct, and what a flag mismatch sets when the engine
# did not say which flags disagree (Mismatch.details["flags"]).
FLAG_KINDS = {
    MismatchKind.POVERTY_FLAG: {KeyGroup.POVERTY_REGISTERED.value: True},
    MismatchKind.DISABILITY_FLAG: {KeyGroup.DISABLED.value: True},
}
CORRECTABLE_FLAGS = frozenset(
    {KeyGroup.POVERTY_REGISTERED, KeyGroup.RELAPSE_MONITORED, KeyGroup.DISABLED}
)
# The mismatches about a child the system has no 学籍 for: a 未入学 entry is their follow-up.
ENTRY_KINDS = frozenset(
    {
        MismatchKind.NOT_ENROLLED,
        MismatchKind.POVERTY_NOT_IN_LEDGER,
        MismatchKind.ELSEWHERE_UNRECORDED,
    }
)


class FollowUp(TextChoices):
    """The one-click follow-ups of a mismatch (the pages' and the API's action names)."""

    OPEN_ENTRY = "open-entry", "登记未入学台账"
    CORRECT_FLAG = "correct-flag", "更正学生标识"
    LINK_STUDENT = "link-student", "关联已有学生"
    EXPLAIN = "explain", "说明情况"


# What a follow-up needs besides comparisons.dispose: the owning app's own permission, which
# its service asks again.
FOLLOW_UP_PERMISSIONS = {
    FollowUp.OPEN_ENTRY: ledger_permissions.CREATE,
    FollowUp.CORRECT_FLAG: Capability.MANAGE_STUDENTS,
}


def fits(mismatch: Mismatch, follow_up: FollowUp) -> bool:
    """Whether ``follow_up`` applies to ``mismatch`` (not yet handled)."""
    if mismatch.handled_id is not None:
        return False
    matched = mismatch.strength == Strength.ID and mismatch.student_id is not None
    if follow_up == FollowUp.OPEN_ENTRY:
        return mismatch.kind in ENTRY_KINDS and not matched
    if follow_up == FollowUp.CORRECT_FLAG:
        return mismatch.student_id is not None and bool(flags_to_set(mismatch))
    if follow_up == FollowUp.LINK_STUDENT:
        return not matched
    return True


def offered(user: User, mismatch: Mismatch) -> list[FollowUp]:
    """The follow-ups the pages offer ``user`` on ``mismatch`` (of their area)."""
    if not can(user, permissions.DISPOSE):
        return []
    return [
        follow_up
        for follow_up in FollowUp
        if fits(mismatch, follow_up)
        and (follow_up not in FOLLOW_UP_PERMISSIONS or can(user, FOLLOW_UP_PERMISSIONS[follow_up]))
    ]


def one_click(mismatch: Mismatch, follow_up: FollowUp) -> bool:
    """Whether ``follow_up`` can be taken at once, without a form: correcting the flags a
    list matched by ID number says are wrong, and confirming the student a weak match found.
    A weak match's flags are not corrected in one click (the person is not confirmed yet)."""
    if follow_up == FollowUp.CORRECT_FLAG:
        return mismatch.strength != Strength.WEAK
    if follow_up == FollowUp.LINK_STUDENT:
        return mismatch.student_id is not None and mismatch.strength == Strength.WEAK
    return False


def _locked(by: User, mismatch: Mismatch) -> Mismatch:
    """The mismatch, locked for its disposition, once the user may act on it here."""
    require(by, permissions.DISPOSE)
    locked = (
        Mismatch.objects.select_for_update(of=("self",))
        .select_related("county", "source_row__region", "student", "township", "school", "handled")
        .get(pk=mismatch.pk)
    )
    if not jurisdiction.contains(by, locked):
        raise AppError("该比对结果不在您的管辖范围内。")
    if locked.handled is not None:
        raise AppError(
            f"该不一致已处理（{locked.handled.get_disposition_display()}，"
            f"{locked.handled.at:%Y-%m-%d}），无需重复处理。"
        )
    return locked


def _record(
    *,
    by: User,
    mismatch: Mismatch,
    disposition: str,
    note: str = "",
    student: Student | None = None,
    entry: LedgerEntry | None = None,
) -> MismatchDisposition:
    """The one constructor of dispositions: append one, mark the mismatch handled, audit."""
    if disposition not in Disposition.values:
        raise AppError(f"“{disposition}”不是有效的处理方式。", field="disposition")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise AppError(f"说明不能超过{NOTE_MAX}字。", field="note")
    if disposition == Disposition.EXPLAINED and not note:
        raise AppError("请填写情况说明：为什么这条不一致不需要处理。", field="note")
    made = MismatchDisposition.objects.create(
        county=mismatch.county,
        key=mismatch.key,
        fingerprint=mismatch.fingerprint,
        mismatch=mismatch,
        disposition=disposition,
        note=note,
        student=student,
        entry=entry,
        by=by,
    )
    mismatch.handled = made
    mismatch.save(update_fields=["handled"])
    audit.record(
        actor=by,
        action=AuditAction.UPDATE,
        obj=mismatch,
        detail=f"比对结果处理：{made.get_disposition_display()}",
        region_code=mismatch.county.code,
    )
    return made


@transaction.atomic
def dispose(
    *,
    by: User,
    mismatch: Mismatch,
    disposition: str,
    note: str = "",
    student: Student | None = None,
    entry: LedgerEntry | None = None,
) -> MismatchDisposition:
    """Record what was done about ``mismatch``: 已说明情况 with the explanation (``note``),
    已关联已有学生 with the ``student``, 已登记未入学台账 with the ``entry`` opened for the
    child (by the ledger's own pages or API; ``open_entry`` opens one and records it). The
    student and the entry must be of the user's area. A flag is corrected only by
    ``correct_flag``, which changes the student's record."""
    mismatch = _locked(by, mismatch)
    if disposition == Disposition.FLAG_CORRECTED:
        raise AppError(
            "更正学生标识请使用“更正学生标识”，由系统按名单修改学生档案。", field="disposition"
        )
    if disposition == Disposition.LINKED and student is None:
        raise AppError("请选择要关联的学生。", field="student")
    if disposition == Disposition.ENTRY_OPENED and entry is None:
        raise AppError("请选择为该孩子登记的台账记录。", field="entry")
    if student is not None and not jurisdiction.contains(by, student):
        raise AppError("所选学生不在您的管辖范围内。", field="student")
    if entry is not None and not jurisdiction.contains(by, entry):
        raise AppError("所选台账记录不在您的管辖范围内。", field="entry")
    return _record(
        by=by,
        mismatch=mismatch,
        disposition=disposition,
        note=note,
        student=student,
        entry=entry,
    )


def explain(*, by: User, mismatch: Mismatch, note: str) -> MismatchDisposition:
    """已说明情况: the disagreement needs no follow-up, and why."""
    return dispose(by=by, mismatch=mismatch, disposition=Disposition.EXPLAINED, note=note)


def link_student(
    *, by: User, mismatch: Mismatch, student: Student | None, note: str = ""
) -> MismatchDisposition:
    """The list's child is ``student`` (of the user's area): a weak match confirmed, or a
    child the list names differently linked to their record."""
    return dispose(
        by=by, mismatch=mismatch, disposition=Disposition.LINKED, note=note, student=student
    )


def entry_prefill(mismatch: Mismatch) -> dict:
    """What the list says about the child, as ledger.services.EntryData fields: the 未入学
    entry's form starts with these and the user completes the rest (the 学籍 check)."""
    row = mismatch.source_row
    values = {
        "name": mismatch.name,
        "birth_date": mismatch.birth_date,
        "township": mismatch.township,
        "school": mismatch.school,
    }
    if row is not None:
        values.update(
            gender=row.gender,
            hukou_region=row.region,
            birth_date=mismatch.birth_date or row.birth_date,
            # A number whose checksum failed is not carried: the entry would refuse it.
            id_number=row.id_number if row.id_valid else "",
        )
    elif mismatch.id_number:
        values["id_number"] = mismatch.id_number
    return {name: value for name, value in values.items() if value not in (None, "")}


@transaction.atomic
def open_entry(*, by: User, mismatch: Mismatch, note: str = "", **fields) -> LedgerEntry:
    """Put the child of ``mismatch`` on the ledger as 未入学 (source 数据比对) through
    ledger.services.entry_create: the list's data (``entry_prefill``) with ``fields`` — the
    EntryData fields the user completed or corrected — over it."""
    mismatch = _locked(by, mismatch)
    if mismatch.kind not in ENTRY_KINDS:
        raise AppError(
            f"“{mismatch.get_kind_display()}”的不一致不需要登记未入学台账。", field="kind"
        )
    if mismatch.strength == Strength.ID and mismatch.student_id is not None:
        raise AppError("该孩子已有学籍，不能登记为未入学。", field="student")
    values = {**entry_prefill(mismatch), **fields}
    values.update(kind=EntryKind.NOT_ENROLLED, source=EntrySource.COMPARISON, student=None)
    values["note"] = (note or "").strip() or f"数据比对：{mismatch.get_kind_display()}"
    entry = ledger_services.entry_create(by=by, data=ledger_services.EntryData(**values))
    _record(
        by=by,
        mismatch=mismatch,
        disposition=Disposition.ENTRY_OPENED,
        note=note,
        entry=entry,
    )
    return entry


def flags_to_set(mismatch: Mismatch) -> dict[str, bool]:
    """The key-group flags the list says the student should have (only those that disagree)."""
    if mismatch.kind not in FLAG_KINDS:
        return {}
    flags = (mismatch.details or {}).get("flags")
    if not isinstance(flags, dict) or not flags:
        flags = FLAG_KINDS[mismatch.kind]
    return {group: bool(value) for group, value in flags.items() if group in CORRECTABLE_FLAGS}


@transaction.atomic
def correct_flag(
    *, by: User, mismatch: Mismatch, confirmed: bool = False, note: str = ""
) -> Student:
    """Set the student's poverty, relapse-monitoring or disability flag as the list says,
    through students.services.student_update. A weak match (name and birth date only) is
    acted on only once the user confirms it is the same child (issue 13 rule 2)."""
    mismatch = _locked(by, mismatch)
    flags = flags_to_set(mismatch)
    if not flags:
        raise AppError(f"“{mismatch.get_kind_display()}”的不一致没有可更正的学生标识。")
    if mismatch.student_id is None:
        raise AppError("该不一致没有对应的学生，请先关联已有学生。", field="student")
    if mismatch.strength == Strength.WEAK and not confirmed:
        raise AppError(
            "该学生只按姓名和出生日期匹配，请先核对确认是同一个孩子再更正。", field="confirmed"
        )
    student = mismatch.student
    values = student_services.current_values(student)
    groups = set(values["key_groups"])
    for group, value in flags.items():
        (groups.add if value else groups.discard)(group)
    values["key_groups"] = groups
    if flags.get(KeyGroup.DISABLED.value):
        # The 残联 list's type and grade, when it gives them (clearing the flag clears them:
        # students.services.clean_fields).
        details = mismatch.details or {}
        for name in ("disability_type", "disability_grade"):
            values[name] = details.get(name) or values[name]
    student = student_services.student_update(
        by=by, student=student, data=student_services.StudentData(**values)
    )
    _record(
        by=by,
        mismatch=mismatch,
        disposition=Disposition.FLAG_CORRECTED,
        note=note,
        student=student,
    )
    return student
