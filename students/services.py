"""Writes to students and 学籍. Pages, API and the roster import all call these."""

import datetime
import re
from dataclasses import dataclass, field, fields

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import AuditAction, Capability, RegionLevel
from accounts.models import Region, School, SchoolClass, User
from accounts.services import has_capability, require_capability
from kongchuo.errors import AppError

from .choices import (
    ETHNIC_GROUPS,
    DisabilityGrade,
    DisabilityType,
    EventKind,
    Gender,
    KeyGroup,
    Status,
    TransferStatus,
)
from .identity import validate_id_number
from .models import EnrollmentEvent, Guardian, Student, Transfer
from .transitions import GRADUATION_GRADE, TRANSITIONS, refusal

# Frozen once: an enum's .values builds a new list on every call, and the roster import
# checks every row against these.
_GENDERS = frozenset(Gender.values)
_ETHNICITIES = frozenset(ETHNIC_GROUPS)
_KEY_GROUPS = frozenset(KeyGroup.values)
_DISABILITY_TYPES = frozenset(DisabilityType.values)
_DISABILITY_GRADES = frozenset(DisabilityGrade.values)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


@dataclass
class GuardianData:
    name: str
    relation: str
    phone: str = ""


@dataclass
class StudentData:
    """Everything a page, the API or a roster row says about a student."""

    name: str
    gender: str
    birth_date: datetime.date
    school: School
    grade: int
    id_number: str = ""
    ethnicity: str = "汉族"
    hukou_region: Region | None = None
    address: str = ""
    student_number: str = ""
    klass: SchoolClass | None = None
    entry_date: datetime.date | None = None
    guardians: list[GuardianData] = field(default_factory=list)
    key_groups: set[str] = field(default_factory=set)
    disability_type: str = ""
    disability_grade: int | None = None


_IDENTITY_FIELDS = [
    f.name for f in fields(StudentData) if f.name not in ("guardians", "key_groups")
]


def can_record(user) -> bool:
    return has_capability(user, Capability.MANAGE_STUDENTS)


def require_recorder(user) -> None:
    require_capability(user, Capability.MANAGE_STUDENTS)


def normalise_phone(raw: str, *, field_name: str) -> str:
    phone = re.sub(r"[\s()（）]", "", str(raw or ""))
    if phone and not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        raise AppError(
            f"“{raw}”不是有效的电话号码：手机号为1开头的11位数字，固话如0872-1234567。",
            field=field_name,
        )
    return phone


def not_in_future(
    value: datetime.date | None, *, field_name: str, label: str, today: datetime.date | None = None
) -> None:
    if value and value > (today or timezone.localdate()):
        raise AppError(f"{label}不能晚于今天。", field=field_name)


def where_is(user, student: Student) -> str:
    """Where an existing record is, told only inside the user's area."""
    if jurisdiction.contains(user, student):
        return f"{student.school.name}{student.grade_label}的{student.name}"
    return "您管辖范围以外的学校"


def clean(by: User, data: StudentData, *, existing: Student | None = None) -> StudentData:
    """Validate and normalise ``data``; AppError names the first field at fault."""
    clean_fields(data)
    if not jurisdiction.contains(by, data.school):
        raise AppError("所选学校不在您的管辖范围内。", field="school")
    if existing is not None and existing.school_id != data.school.pk:
        raise AppError("学生转学请登记“转出”学籍异动，由转入学校确认。", field="school")
    others = Student.objects.exclude(pk=existing.pk) if existing else Student.objects.all()
    if data.id_number:
        twin = others.select_related("school").filter(id_number=data.id_number).first()
        if twin is not None:
            raise AppError(
                f"该身份证号已登记：{where_is(by, twin)}。一个孩子只能有一条记录。",
                field="id_number",
            )
    if data.student_number:
        twin = others.select_related("school").filter(student_number=data.student_number).first()
        if twin is not None:
            raise AppError(f"该学籍号已登记：{where_is(by, twin)}。", field="student_number")
    return data


def clean_fields(data: StudentData, *, today: datetime.date | None = None) -> StudentData:
    """The checks that need no database: the roster import runs these row by row and does
    the area and duplicate checks for the whole file at once."""
    data.name = (data.name or "").strip()
    if not data.name:
        raise AppError("请填写姓名。", field="name")
    if data.gender not in _GENDERS:
        raise AppError("性别应为“男”或“女”。", field="gender")
    if data.ethnicity not in _ETHNICITIES:
        raise AppError(f"“{data.ethnicity}”不是有效的民族名称。", field="ethnicity")
    today = today or timezone.localdate()
    not_in_future(data.birth_date, field_name="birth_date", label="出生日期", today=today)
    not_in_future(data.entry_date, field_name="entry_date", label="入学日期", today=today)
    data.id_number = validate_id_number(
        data.id_number, birth_date=data.birth_date, gender=data.gender
    )
    if not isinstance(data.grade, int) or not 1 <= data.grade <= 9:
        raise AppError("年级应在1–9之间（小学一年级至初三）。", field="grade")
    if data.klass is not None and (
        data.klass.school_id != data.school.pk or data.klass.grade != data.grade
    ):
        raise AppError("所选班级不属于该学校的该年级。", field="klass")
    if data.hukou_region is not None and data.hukou_region.level < RegionLevel.TOWNSHIP:
        raise AppError("户籍地应填写到乡镇或村。", field="hukou_region")
    data.student_number = (data.student_number or "").strip().upper()
    for group in data.key_groups:
        if group not in _KEY_GROUPS:
            raise AppError(f"“{group}”不是有效的重点群体。", field="key_groups")
    if KeyGroup.DISABLED in data.key_groups:
        if data.disability_type and data.disability_type not in _DISABILITY_TYPES:
            raise AppError("残疾类型无效。", field="disability_type")
        if data.disability_grade is not None and data.disability_grade not in _DISABILITY_GRADES:
            raise AppError("残疾等级应为一至四级。", field="disability_grade")
    else:
        data.disability_type, data.disability_grade = "", None
    for index, guardian in enumerate(data.guardians, start=1):
        if not guardian.name.strip():
            raise AppError(f"第{index}位监护人缺少姓名。", field="guardians")
        guardian.phone = normalise_phone(guardian.phone, field_name="guardians")
    return data


def _apply(student: Student, data: StudentData) -> None:
    for name in _IDENTITY_FIELDS:
        value = getattr(data, name)
        setattr(
            student,
            name,
            value if value != "" or name not in ("id_number", "student_number") else None,
        )
    for group in KeyGroup:
        setattr(student, group.value, group.value in data.key_groups)


def _save_guardians(student: Student, guardians: list[GuardianData]) -> None:
    student.guardians.all().delete()
    Guardian.objects.bulk_create(
        [
            Guardian(
                student=student, name=g.name.strip(), relation=g.relation.strip(), phone=g.phone
            )
            for g in guardians
        ]
    )


@transaction.atomic
def student_create(*, by: User, data: StudentData) -> Student:
    require_recorder(by)
    data = clean(by, data)
    student = Student(status=Status.ENROLLED)
    _apply(student, data)
    try:
        with transaction.atomic():
            student.save()
    except IntegrityError:
        raise AppError("该身份证号或学籍号刚被登记，请刷新后重试。", field="id_number") from None
    _save_guardians(student, data.guardians)
    EnrollmentEvent.objects.create(
        student=student,
        kind=EventKind.ENROL,
        date=data.entry_date or timezone.localdate(),
        reason="建立学籍档案",
        school=student.school,
        status_after=Status.ENROLLED,
        operator=by,
    )
    audit.record_change(actor=by, instance=student, before=None)
    return student


@transaction.atomic
def student_update(*, by: User, student: Student, data: StudentData) -> Student:
    require_recorder(by)
    if not jurisdiction.contains(by, student):
        raise AppError("该学生不在您的管辖范围内。")
    data = clean(by, data, existing=student)
    before = audit.snapshot(student)
    guardians_before = _guardian_tuples(student.guardians.all())
    _apply(student, data)
    guardians_after = _guardian_tuples(data.guardians)
    if audit.snapshot(student) == before and guardians_after == guardians_before:
        # Nothing changed: leave updated_at alone, so sync clients do not get their own
        # idempotent writes back as changes.
        return student
    student.save()
    if guardians_after != guardians_before:
        _save_guardians(student, data.guardians)
    audit.record_change(
        actor=by,
        instance=student,
        before=before,
        detail="监护人信息已更新" if guardians_after != guardians_before else "",
    )
    return student


def _guardian_tuples(guardians) -> list[tuple[str, str, str]]:
    return [(g.name.strip(), g.relation.strip(), g.phone) for g in guardians]


def _check_event(student: Student, kind: EventKind, date: datetime.date, reason: str) -> None:
    problem = refusal(kind, student.status)
    if problem:
        raise AppError(problem, field="kind")
    if kind == EventKind.GRADUATE and student.grade != GRADUATION_GRADE:
        raise AppError("只有初三（九年级）学生可以登记“毕业”。", field="kind")
    not_in_future(date, field_name="date", label="异动日期")
    last = student.events.order_by("-date").values_list("date", flat=True).first()
    if last and date < last:
        raise AppError(f"异动日期不能早于上一次学籍异动（{last:%Y-%m-%d}）。", field="date")
    if not (reason or "").strip():
        raise AppError("请填写异动原因。", field="reason")


def _event(
    *, by, student, kind, date, reason, document="", other_school=None, destination="", school=None
):
    _, status_after = TRANSITIONS[kind]
    event = EnrollmentEvent.objects.create(
        student=student,
        kind=kind,
        date=date,
        reason=reason.strip(),
        document=document.strip(),
        school=school or student.school,
        other_school=other_school,
        destination=destination.strip(),
        status_after=status_after,
        operator=by,
    )
    audit.record(
        actor=by, action=AuditAction.CREATE, obj=event, detail=f"{student.name}：{kind.label}"
    )
    return event


@transaction.atomic
def event_record(
    *,
    by: User,
    student: Student,
    kind: str,
    date: datetime.date,
    reason: str,
    document: str = "",
    to_school: School | None = None,
    destination: str = "",
) -> EnrollmentEvent | Transfer:
    """Record one 学籍 change. A 转出 to a school in the system becomes a transfer request that
    the receiving school confirms; everything else changes the status at once."""
    require_recorder(by)
    student = Student.objects.select_for_update().get(pk=student.pk)
    if not jurisdiction.contains(by, student):
        raise AppError("该学生不在您的管辖范围内。")
    try:
        kind = EventKind(kind)
    except ValueError:
        raise AppError("不支持的学籍异动类型。", field="kind") from None
    if kind == EventKind.ENROL:
        raise AppError("入学注册在建立学生档案时自动登记。", field="kind")
    _check_event(student, kind, date, reason)
    if kind == EventKind.TRANSFER_OUT and to_school is not None:
        if to_school.pk == student.school_id:
            raise AppError("转入学校不能是本校。", field="to_school")
        if student.transfers.filter(status=TransferStatus.PENDING).exists():
            raise AppError("该学生已有一条待接收的转学申请。", field="to_school")
        transfer = Transfer.objects.create(
            student=student,
            from_school=student.school,
            to_school=to_school,
            date=date,
            reason=reason.strip(),
            document=document.strip(),
            requested_by=by,
        )
        audit.record(
            actor=by, action=AuditAction.CREATE, obj=transfer, detail=f"转往{to_school.name}"
        )
        return transfer
    if kind in (EventKind.TRANSFER_OUT, EventKind.TRANSFER_IN) and not destination.strip():
        raise AppError("请填写转往（或来自）的系统外学校或地区。", field="destination")
    return _status_change(
        by=by,
        student=student,
        kind=kind,
        date=date,
        reason=reason,
        document=document,
        destination=destination,
    )


def _status_change(*, by, student, kind, date, reason, document="", destination=""):
    event = _event(
        by=by,
        student=student,
        kind=kind,
        date=date,
        reason=reason,
        document=document,
        destination=destination,
    )
    Student.objects.filter(pk=student.pk).update(
        status=event.status_after, updated_at=timezone.now()
    )
    student.status = event.status_after
    return event


@transaction.atomic
def ledger_status_change(
    *, by: User, student: Student, kind: EventKind, reason: str, document: str = "", destination=""
) -> EnrollmentEvent:
    """The 学籍 side of a ledger decision (人账相符): confirming a dropout records 辍学, a
    return records 复学. The ledger checks who may decide; the 学籍 rules still apply."""
    student = Student.objects.select_for_update().get(pk=student.pk)
    _check_event(student, kind, timezone.localdate(), reason)
    return _status_change(
        by=by,
        student=student,
        kind=kind,
        date=timezone.localdate(),
        reason=reason,
        document=document,
        destination=destination,
    )


@transaction.atomic
def transfer_decide(
    *, by: User, transfer: Transfer, accept: bool, klass: SchoolClass | None = None, note: str = ""
) -> Transfer:
    """The receiving school accepts (the child moves into its area) or sends back a transfer."""
    require_recorder(by)
    transfer = (
        Transfer.objects.select_for_update()
        .select_related("student", "to_school")
        .get(pk=transfer.pk)
    )
    if not jurisdiction.contains(by, transfer.to_school):
        raise AppError("只有转入学校（或其主管部门）可以处理该转学申请。")
    if transfer.status != TransferStatus.PENDING:
        raise AppError(f"该转学申请已{transfer.get_status_display()}。")
    student = Student.objects.select_for_update().get(pk=transfer.student_id)
    if accept:
        if klass is not None and (
            klass.school_id != transfer.to_school_id or klass.grade != student.grade
        ):
            raise AppError("所选班级不属于转入学校的该年级。", field="klass")
        problem = refusal(EventKind.TRANSFER_OUT, student.status)
        if problem:
            raise AppError(problem)
        today = max(timezone.localdate(), transfer.date)
        _event(
            by=transfer.requested_by,
            student=student,
            kind=EventKind.TRANSFER_OUT,
            date=transfer.date,
            reason=transfer.reason,
            document=transfer.document,
            other_school=transfer.to_school,
        )
        _event(
            by=by,
            student=student,
            kind=EventKind.TRANSFER_IN,
            date=today,
            reason=transfer.reason,
            document=transfer.document,
            other_school=transfer.from_school,
            school=transfer.to_school,
        )
        student.school, student.klass, student.status = transfer.to_school, klass, Status.ENROLLED
        student.save(update_fields=["school", "klass", "status", "updated_at"])
    transfer.status = TransferStatus.ACCEPTED if accept else TransferStatus.REJECTED
    transfer.decided_by, transfer.decided_at, transfer.note = by, timezone.now(), note.strip()
    transfer.save()
    audit.record(
        actor=by, action=AuditAction.UPDATE, obj=transfer, detail=transfer.get_status_display()
    )
    return transfer


def can_reveal(user) -> bool:
    return has_capability(user, Capability.REVEAL_IDENTITY)


@transaction.atomic
def reveal_id_number(*, by: User, student: Student) -> str:
    """The full ID number, for a role that needs it, written to the audit trail."""
    if not jurisdiction.contains(by, student):
        raise AppError("该学生不在您的管辖范围内。")
    if not can_reveal(by):
        raise AppError("当前账号无权查看完整身份证号。")
    audit.record(
        actor=by, action=AuditAction.REVEAL, obj=student, detail="查看完整身份证号及监护人电话"
    )
    return student.id_number or ""
