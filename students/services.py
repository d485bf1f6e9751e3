"""Writes to students and 学籍. Pages, API and the roster import all call these."""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import AuditAction, Capability, RegionLevel
from accounts.models import Region, School, SchoolClass, User, current_school_year, grade_label
from accounts.permissions import can, require
from kongchuo import crypto
from kongchuo.errors import AppError

from . import selectors
from .choices import (
    ENROLLED_STATUSES,
    ETHNIC_GROUPS,
    OTHER_ETHNICITIES,
    DisabilityGrade,
    DisabilityType,
    EventKind,
    Gender,
    KeyGroup,
    Status,
    TransferStatus,
)
from .identity import validate_document
from .models import EnrollmentEvent, Guardian, IdType, Student, Transfer
from .permissions import GUARDIAN_PHONES
from .transitions import GRADUATION_GRADE, TRANSITIONS, refusal

# Frozen once: an enum's .values builds a new list on every call, and the roster import
# checks every row against these.
_GENDERS = frozenset(Gender.values)
_ETHNICITIES = frozenset(ETHNIC_GROUPS + OTHER_ETHNICITIES)
_KEY_GROUPS = frozenset(KeyGroup.values)
_DISABILITY_TYPES = frozenset(DisabilityType.values)
_DISABILITY_GRADES = frozenset(DisabilityGrade.values)
# In a fixed order, for the key-group columns of a row.
_KEY_GROUP_VALUES = tuple(KeyGroup.values)
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
    id_type: str = IdType.RESIDENT  # 身份证件类型: which rule checks ``id_number``


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


def where_is(user, student: Student, *, in_area: bool | None = None) -> str:
    """Where an existing record is, told only inside the user's area (``in_area``: already
    known, as the roster import knows it for a whole file)."""
    if in_area is None:
        in_area = jurisdiction.contains(user, student)
    if in_area:
        return f"{student.school.name}{student.grade_label}的{student.name}"
    return "您管辖范围以外的学校"


def moved_refusal(existing: Student) -> AppError:
    """A write that would move a student (of the writer's area) to another school: the
    school changes only through a transfer that the receiving school confirms."""
    return AppError(
        f"该学生的学籍在{existing.school.name}：学生转学请登记“转出”学籍异动，由转入学校确认。",
        field="school",
    )


def clean(by: User, data: StudentData, *, existing: Student | None = None) -> StudentData:
    """Validate and normalise ``data``; AppError names the first field at fault."""
    clean_fields(data)
    if not jurisdiction.contains(by, data.school):
        raise AppError("所选学校不在您的管辖范围内。", field="school")
    if existing is not None and existing.school_id != data.school.pk:
        raise moved_refusal(existing)
    others = Student.objects.exclude(pk=existing.pk) if existing else Student.objects.all()
    if data.id_number:
        twin = (
            others.select_related("school")
            .filter(id_hash=crypto.match_hash(data.id_number))
            .first()
        )
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
    if data.birth_date:
        check_age(data.birth_date, today=today)
    not_in_future(data.entry_date, field_name="entry_date", label="入学日期", today=today)
    if data.id_type not in IdType.values:
        raise AppError(f"“{data.id_type}”不是有效的身份证件类型。", field="id_type")
    # GB 11643 for a 居民身份证; every other document by its own shape.
    data.id_number = validate_document(
        data.id_type, data.id_number, birth_date=data.birth_date, gender=data.gender
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


def _age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Whole years (周岁) on ``day``: the birthday itself counts."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def check_age(birth_date: datetime.date, *, today: datetime.date | None = None) -> None:
    """A pupil's age on 1 September of the current school year must lie in
    settings.STUDENT_AGE_RANGE (both ends included): outside it the birth date (or the
    record) is wrong, not the child."""
    youngest, oldest = settings.STUDENT_AGE_RANGE
    start = datetime.date(current_school_year(today), 9, 1)
    age = _age_on(birth_date, start)
    if not youngest <= age <= oldest:
        when = "尚未出生" if age < 0 else f"为{age}周岁"
        raise AppError(
            f"按出生日期（{birth_date:%Y-%m-%d}），该学生在{start.year}年9月1日{when}，"
            f"不在义务教育阶段学生的合理年龄（{youngest}–{oldest}周岁）内：请核对出生日期。",
            field="birth_date",
        )


# -- The row constructors: student_create and student_update build their rows with these, and
# the roster import builds its bulk rows with the same functions.


def student_columns(data: StudentData) -> dict:
    """The student's columns that ``data`` says, by attname: everything but the status (only
    学籍 events change it) and the timestamps."""
    return {
        "name": data.name,
        "gender": data.gender,
        "birth_date": data.birth_date,
        "ethnicity": data.ethnicity,
        # No empty ID number or 学籍号: their unique constraints keep NULLs apart, not "".
        "id_number": data.id_number or None,
        "id_type": data.id_type,
        "hukou_region_id": data.hukou_region.pk if data.hukou_region is not None else None,
        "address": data.address,
        "student_number": data.student_number or None,
        "school_id": data.school.pk,
        "klass_id": data.klass.pk if data.klass is not None else None,
        "grade": data.grade,
        "entry_date": data.entry_date,
        "disability_type": data.disability_type,
        "disability_grade": data.disability_grade,
        **{group: group in data.key_groups for group in _KEY_GROUP_VALUES},
    }


def new_student_columns(data: StudentData) -> dict:
    """A new student's row: ``student_columns``, the status its 入学注册 leaves, and not
    merged into another record (students.merge)."""
    return {
        **student_columns(data),
        "status": TRANSITIONS[EventKind.ENROL][1].value,
        "merged_into_id": None,
    }


def _keep_related(student: Student, data: StudentData) -> None:
    # The records themselves, so that nothing loads them again (audit_region_code, pages).
    student.school, student.klass, student.hukou_region = data.school, data.klass, data.hukou_region


def student_apply(student: Student, data: StudentData) -> None:
    """Set what ``data`` says on an existing student (not saved)."""
    for name, value in student_columns(data).items():
        setattr(student, name, value)
    _keep_related(student, data)


def enrolment_columns(
    *, by: User, student_id: int, data: StudentData, reason: str, today: datetime.date
) -> dict:
    """The 入学注册 event of a new student, by attname."""
    kind = EventKind.ENROL
    return {
        "student_id": student_id,
        "kind": kind.value,
        "date": data.entry_date or today,
        "reason": reason,
        "document": "",
        "school_id": data.school.pk,
        "other_school_id": None,
        "destination": "",
        "status_after": TRANSITIONS[kind][1].value,
        "operator_id": by.pk,
    }


def guardian_tuples(guardians) -> list[tuple[str, str, str]]:
    """Guardians (GuardianData or saved ones) as compared and stored: an update replaces a
    student's guardians only when these differ."""
    return [(g.name.strip(), g.relation.strip(), g.phone) for g in guardians]


def guardian_columns(student_id: int, guardians) -> list[dict]:
    """The student's guardian rows, by attname."""
    return [
        {"student_id": student_id, "name": name, "relation": relation, "phone": phone}
        for name, relation, phone in guardian_tuples(guardians)
    ]


# The audit detail of an update that replaced the guardians (the audit trail keeps no
# guardian rows: their phones are personal data).
GUARDIANS_CHANGED = "监护人信息已更新"
ENROL_REASON = "建立学籍档案"


def _save_guardians(student: Student, guardians: list[GuardianData]) -> None:
    student.guardians.all().delete()
    Guardian.objects.bulk_create(
        [Guardian(**row) for row in guardian_columns(student.pk, guardians)]
    )


@transaction.atomic
def student_create(*, by: User, data: StudentData) -> Student:
    require(by, Capability.MANAGE_STUDENTS)
    data = clean(by, data)
    student = Student(**new_student_columns(data))
    _keep_related(student, data)
    try:
        with transaction.atomic():
            student.save()
    except IntegrityError:
        raise AppError("该身份证号或学籍号刚被登记，请刷新后重试。", field="id_number") from None
    _save_guardians(student, data.guardians)
    EnrollmentEvent.objects.create(
        **enrolment_columns(
            by=by,
            student_id=student.pk,
            data=data,
            reason=ENROL_REASON,
            today=timezone.localdate(),
        )
    )
    audit.record_change(actor=by, instance=student, before=None)
    return student


@transaction.atomic
def student_update(*, by: User, student: Student, data: StudentData) -> Student:
    require(by, Capability.MANAGE_STUDENTS)
    if not jurisdiction.contains(by, student):
        raise AppError("该学生不在您的管辖范围内。")
    if student.merged_into_id:
        raise AppError("该记录是已合并的重复记录，不能修改：请修改保留的学生记录。")
    data = clean(by, data, existing=student)
    before = audit.snapshot(student)
    guardians_before = guardian_tuples(student.guardians.all())
    student_apply(student, data)
    guardians_after = guardian_tuples(data.guardians)
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
        detail=GUARDIANS_CHANGED if guardians_after != guardians_before else "",
    )
    return student


def current_values(student: Student) -> dict:
    """A saved student as StudentData keyword arguments (the base a partial update changes:
    the API's PATCH, a comparison's corrected key-group flag)."""
    return {
        "name": student.name,
        "gender": student.gender,
        "birth_date": student.birth_date,
        "school": student.school,
        "grade": student.grade,
        "id_number": student.id_number or "",
        "id_type": student.id_type,
        "ethnicity": student.ethnicity,
        "hukou_region": student.hukou_region,
        "address": student.address,
        "student_number": student.student_number or "",
        "klass": student.klass,
        "entry_date": student.entry_date,
        "guardians": [
            GuardianData(name=g.name, relation=g.relation, phone=g.phone)
            for g in student.guardians.all()
        ],
        "key_groups": set(student.key_group_values),
        "disability_type": student.disability_type,
        "disability_grade": student.disability_grade,
    }


# -- The natural-key upsert (sync API, roster import)

# A sync or a roster says who is on the roll; it never changes a 学籍 status. A child whose
# status says otherwise (辍学, 转出, 毕业, 死亡) waits for the matching 学籍 event.
UPSERT_STATUSES = ENROLLED_STATUSES | {Status.SUSPENDED}
NATURAL_KEYS = ("id_number", "student_number")


def by_natural_key(key: str, value) -> dict:
    """The filter that finds a student by a natural key: an ID number by its look-up hash
    (the number itself is sealed)."""
    return {"id_hash": crypto.match_hash(value)} if key == "id_number" else {key: value}


def upsert_refusal(
    existing: Student, data: StudentData, *, key: str, in_area: bool
) -> AppError | None:
    """Why ``data`` may not update ``existing``, the student that its natural key ``key``
    found, or None. ``in_area``: whether ``existing`` lies in the writer's area. One rule
    for student_upsert (one record) and the roster import (a whole file at once)."""
    what = Student._meta.get_field(key).verbose_name
    if not in_area:
        return AppError(
            f"该{what}已在您管辖范围以外的学校登记，一个孩子只能有一条记录。"
            "如学生已转入本校，请联系原学校登记转出。",
            field=key,
        )
    if key == "student_number" and existing.id_number and existing.id_number != data.id_number:
        # Updating would replace (or erase) the ID number the record was confirmed by.
        if data.id_number:
            return AppError(
                f"该学籍号已登记：{where_is(None, existing, in_area=True)}。",
                field="student_number",
            )
        return AppError(
            "系统中该学籍号的学生已登记身份证号，请同时填写其身份证号。", field="id_number"
        )
    if existing.school_id != data.school.pk:
        return moved_refusal(existing)
    if existing.status not in UPSERT_STATUSES:
        return AppError(
            f"该学生当前学籍状态为“{existing.get_status_display()}”，导入或同步学生信息不改变"
            "学籍状态：请先登记相应的学籍异动（如复学），或从花名册（同步数据）中去掉该学生。",
            field=key,
        )
    return None


@transaction.atomic
def student_upsert(*, by: User, data: StudentData, key: str) -> tuple[Student, bool]:
    """Create the student whose natural key ``key`` (身份证号 or 学籍号) ``data`` gives, or
    update them (the sync API); whether it was created. The roster import is its bulk
    variant: same look-up, same ``upsert_refusal``, same constructors."""
    require(by, Capability.MANAGE_STUDENTS)
    if key not in NATURAL_KEYS:
        raise ValueError(f"not a natural key: {key}")
    clean_fields(data)
    value = getattr(data, key)
    if not value:
        what = Student._meta.get_field(key).verbose_name
        raise AppError(f"请填写{what}。", field=key)
    # Unscoped on purpose: a child registered elsewhere must not get a second record; only
    # whether it is in the area is told. Locked, so that a 学籍 event recorded meanwhile is
    # not written over with the status read here.
    existing = (
        Student.objects.select_for_update(of=("self",))
        .select_related("school")
        .filter(**by_natural_key(key, value))
        .first()
    )
    if existing is None:
        return student_create(by=by, data=data), True
    problem = upsert_refusal(existing, data, key=key, in_area=jurisdiction.contains(by, existing))
    if problem is not None:
        raise problem
    return student_update(by=by, student=existing, data=data), False


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
    require(by, Capability.MANAGE_STUDENTS)
    student = Student.objects.select_for_update().get(pk=student.pk)
    if not jurisdiction.contains(by, student):
        raise AppError("该学生不在您的管辖范围内。")
    try:
        kind = EventKind(kind)
    except ValueError:
        raise AppError("不支持的学籍异动类型。", field="kind") from None
    if kind == EventKind.ENROL:
        raise AppError("入学注册在建立学生档案时自动登记。", field="kind")
    if kind == EventKind.MERGE:
        raise AppError("合并重复记录请在“疑似重复学生”页面办理。", field="kind")
    _check_event(student, kind, date, reason)
    if kind == EventKind.TRANSFER_OUT and to_school is not None:
        if not selectors.transfer_targets(student).filter(pk=to_school.pk).exists():
            raise AppError("转入学校应为本系统内的其他学校，不能是本校。", field="to_school")
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


def _check_transfer_class(transfer: Transfer, klass: SchoolClass | None) -> None:
    """An accepted child joins a class of the receiving school, of their grade, this school
    year: on no roll, the attendance rule would never see them."""
    classes = selectors.transfer_classes(transfer)
    if klass is not None and classes.filter(pk=klass.pk).exists():
        return
    school, grade = transfer.to_school.name, grade_label(transfer.student.grade)
    year = current_school_year()
    if klass is not None:
        message = f"所选班级不是{school}{year}学年{grade}的班级。"
    elif classes.exists():
        message = f"请选择该学生编入的班级（{school}{year}学年{grade}）。"
    else:
        message = f"{school}{year}学年还没有{grade}的班级：请先在学校页面建立该班级，再接收该学生。"
    raise AppError(message, field="klass")


@transaction.atomic
def transfer_decide(
    *, by: User, transfer: Transfer, accept: bool, klass: SchoolClass | None = None, note: str = ""
) -> Transfer:
    """The receiving school accepts (the child moves into its area) or sends back a transfer."""
    require(by, Capability.MANAGE_STUDENTS)
    transfer = (
        Transfer.objects.select_for_update()
        .select_related("student", "to_school")
        .get(pk=transfer.pk)
    )
    if not jurisdiction.contains(by, transfer.to_school):
        raise AppError("只有转入学校（或其主管部门）可以处理该转学申请。")
    if transfer.status != TransferStatus.PENDING:
        raise AppError(f"该转学申请已{transfer.get_status_display()}。")
    student = transfer.student = Student.objects.select_for_update().get(pk=transfer.student_id)
    if accept:
        _check_transfer_class(transfer, klass)
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


def student_merge(*, by: User, keep: Student, merge: Student, reason: str):
    """Merge the duplicate record ``merge`` into ``keep`` (issue 13 rule 4): everything
    about the child moves to ``keep``, and a MergeRecord explains it (students.merge)."""
    from .merge import merge_students  # students.merge builds on this module's writers

    return merge_students(by=by, keep=keep, merged=merge, reason=reason)


@transaction.atomic
def reveal_id_number(*, by: User, student: Student) -> str:
    """The full ID number, for a role that needs it, written to the audit trail."""
    if not jurisdiction.contains(by, student):
        raise AppError("该学生不在您的管辖范围内。")
    if not can(by, Capability.REVEAL_IDENTITY):
        raise AppError("当前账号无权查看完整身份证号。")
    audit.record(actor=by, action=AuditAction.REVEAL, obj=student, detail="查看完整身份证号")
    return student.id_number or ""


@transaction.atomic
def reveal_contacts(
    *,
    by: User,
    record,
    student: Student | None,
    extra: Iterable[selectors.Contact] = (),
) -> list[selectors.Contact]:
    """The full phone numbers to call about a child (``selectors.contacts``), for a user
    who may see them, written to the audit trail as a reveal of ``record``. The one way a
    guardian's number is shown whole: ``record`` is the student (the student page) or a
    higher app's record about the child inside the user's area (the ledger entry page:
    ``student`` its child, if any, and ``extra`` the entry's own contact)."""
    if not jurisdiction.contains(by, record):
        raise AppError("该记录不在您的管辖范围内。")
    require(by, GUARDIAN_PHONES, record)
    found = selectors.contacts(student, extra)
    audit.record(actor=by, action=AuditAction.REVEAL, obj=record, detail="查看监护人联系电话")
    return found
