"""Writes to the ledger (台账). Pages, the API and later the attendance rule and the data
comparisons all call these; each action goes through the state machine in ``transitions``
and leaves a line on the entry's timeline."""

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import PREFIX_LENGTH, AuditAction, NotificationKind, RegionLevel
from accounts.models import Region, School, User
from accounts.notifications import notify, subject
from accounts.permissions import can, require
from kongchuo import crypto
from kongchuo.errors import AppError
from students import services as student_services
from students.choices import ENROLLED_STATUSES, EventKind, Gender, KeyGroup, Status
from students.identity import validate_id_number
from students.models import Student
from students.transitions import TRANSITIONS as STUDENT_TRANSITIONS

from . import permissions, selectors, terms
from .choices import (
    OPEN_STATES,
    Action,
    ClosureReason,
    EntryKind,
    Reason,
    RecordCheck,
    Source,
    State,
    Whereabouts,
)
from .models import EntryEvent, LedgerEntry
from .transitions import COUNTY, REOPENED_STATE

# The 学籍 change an approved 销号 records, so that ledger and 学籍 agree (人账相符).
# Reasons without one leave 学籍 as it is.
CLOSURE_EVENTS = {
    ClosureReason.RETURNED: EventKind.RESUME,
    ClosureReason.STUDYING_ELSEWHERE: EventKind.TRANSFER_OUT,
    ClosureReason.SPECIAL_PLACEMENT: EventKind.HOME_TEACHING,
    ClosureReason.DEFERRED: EventKind.SUSPEND,
    ClosureReason.DECEASED: EventKind.DEATH,
    ClosureReason.ABROAD: EventKind.TRANSFER_OUT,
}
CLOSURE_DESTINATIONS = {
    ClosureReason.STUDYING_ELSEWHERE: "外地学校（见销号证明材料）",
    ClosureReason.ABROAD: "出国（境）",
}
# 无学籍: the 学籍 check requires these (DOMAIN.md §5, 000).
NO_RECORD_FIELDS = {
    "person_status": "人员现状",
    "family_situation": "家庭情况",
    "parent_contact": "父母联系方式",
    "department_opinion": "相关部门意见",
}
EVIDENCE_SUFFIXES = frozenset({".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx"})
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
RESULTING_STATUS = {kind: status for kind, (_, status) in STUDENT_TRANSITIONS.items()}
_STUDENT_FREE_STATUSES = ENROLLED_STATUSES | {Status.SUSPENDED}
# Who the timeline and audit trail name for an entry the attendance rule opened.
RULE_ACTOR = "系统（考勤规则）"


@dataclass
class EntryData:
    """A new ledger entry, from a page, the API, the attendance rule or a comparison."""

    kind: str
    source: str
    reason: str
    whereabouts: str
    student: Student | None = None
    # For a child with no student record (未入学), who they are:
    name: str = ""
    gender: str = ""
    birth_date: datetime.date | None = None
    id_number: str = ""
    hukou_region: Region | None = None
    school: School | None = None
    township: Region | None = None
    record_check: str = ""
    person_status: str = ""
    family_situation: str = ""
    parent_contact: str = ""
    department_opinion: str = ""
    other_reasons: list[str] = field(default_factory=list)
    key_groups: list[str] = field(default_factory=list)
    measures: str = ""
    found_on: datetime.date | None = None
    note: str = ""


# -- checks ------------------------------------------------------------------------------------


def _choice(value: str, choices, *, field_name: str, label: str) -> str:
    if value not in choices.values:
        raise AppError(f"“{value}”不是有效的{label}，请从列表中选择。", field=field_name)
    return value


def _check_lists(data: EntryData) -> None:
    _choice(data.kind, EntryKind, field_name="kind", label="类别")
    _choice(data.source, Source, field_name="source", label="来源")
    _choice(data.reason, Reason, field_name="reason", label="辍学原因")
    _choice(data.whereabouts, Whereabouts, field_name="whereabouts", label="人员现状")
    for reason in data.other_reasons:
        _choice(reason, Reason, field_name="other_reasons", label="辍学原因")
    data.other_reasons = [r for r in dict.fromkeys(data.other_reasons) if r != data.reason]
    for group in data.key_groups:
        _choice(group, KeyGroup, field_name="key_groups", label="重点群体")


def _check_record(data: EntryData) -> None:
    """The 学籍 check step: its outcome, and for 无学籍 the fields it requires."""
    if data.student is not None:
        if data.record_check not in ("", RecordCheck.IN_PROVINCE):
            raise AppError(
                "已有本省学籍的学生，学籍核查结果应为“本省有学籍”。", field="record_check"
            )
        data.record_check = RecordCheck.IN_PROVINCE
    if not data.record_check:
        raise AppError("请先核查学籍，并选择核查结果。", field="record_check")
    _choice(data.record_check, RecordCheck, field_name="record_check", label="学籍核查结果")
    if data.record_check == RecordCheck.NONE:
        missing = {}
        for name, label in NO_RECORD_FIELDS.items():
            setattr(data, name, (getattr(data, name) or "").strip())
            if not getattr(data, name):
                missing[name] = f"学籍核查结果为“无学籍”时须填写{label}。"
        if missing:
            raise AppError.for_fields(missing)


def _check_child(by: User | None, data: EntryData) -> None:
    """Who the child is: an existing student (of the user's area; a rule, ``by`` None, acts
    for the whole system), or for 未入学 a name, sex, birth date and 户籍地, with an ID
    number that no student has."""
    if data.student is not None:
        student = data.student
        if data.kind == EntryKind.NOT_ENROLLED:
            raise AppError("已有学籍的学生不能登记为“未入学”。", field="kind")
        if by is not None and not jurisdiction.contains(by, student):
            raise AppError("该学生不在您的管辖范围内。", field="student")
        allowed = _STUDENT_FREE_STATUSES | (
            {Status.DROPPED_OUT} if data.kind == EntryKind.DROPOUT else set()
        )
        if student.status not in allowed:
            raise AppError(
                f"该学生学籍状态为“{student.get_status_display()}”，"
                f"不能登记为“{EntryKind(data.kind).label}”。",
                field="student",
            )
        data.name, data.gender, data.birth_date = student.name, student.gender, student.birth_date
        data.id_number, data.school = student.id_number or "", student.school
        data.hukou_region = student.hukou_region
        data.key_groups = student.key_group_values
        return
    if data.kind != EntryKind.NOT_ENROLLED:
        raise AppError("请选择学生；没有学籍的孩子请登记为“未入学”。", field="student")
    data.name = (data.name or "").strip()
    if not data.name:
        raise AppError("请填写姓名。", field="name")
    _choice(data.gender, Gender, field_name="gender", label="性别")
    if data.birth_date is None:
        raise AppError("请填写出生日期。", field="birth_date")
    student_services.not_in_future(data.birth_date, field_name="birth_date", label="出生日期")
    data.id_number = validate_id_number(
        data.id_number, birth_date=data.birth_date, gender=data.gender
    )
    if data.hukou_region is None:
        raise AppError("请选择户籍地（乡镇或村）。", field="hukou_region")
    if data.hukou_region.level < RegionLevel.TOWNSHIP:
        raise AppError("户籍地应填写到乡镇或村。", field="hukou_region")
    if data.id_number:
        enrolled = Student.objects.select_related("school").filter(
            id_hash=crypto.match_hash(data.id_number)
        )
        twin = enrolled.first()
        if twin is not None:
            raise AppError(
                f"该身份证号已有学籍：{student_services.where_is(by, twin)}。"
                "请按学生登记疑似辍学或辍学。",
                field="id_number",
            )


def _township_of(region: Region | None) -> Region | None:
    if region is None:
        return None
    return region if region.level == RegionLevel.TOWNSHIP else region.parent


def _responsible_township(data: EntryData) -> Region:
    """The given township, or by default the township of the 户籍地 (DOMAIN.md §7), or of
    the school."""
    township = data.township or _township_of(data.hukou_region)
    if township is None and data.school is not None:
        township = data.school.township
    if township is None or township.level != RegionLevel.TOWNSHIP:
        raise AppError("请选择责任乡镇。", field="township")
    return township


def _same_child(data: EntryData) -> Q | None:
    """The entries of the child ``data`` describes: the student's, and any with the same ID
    number (a 未入学 child who has since been enrolled is the same child)."""
    same = Q(student=data.student) if data.student is not None else Q()
    if data.id_number:
        same |= Q(id_hash=crypto.match_hash(data.id_number))
    return same or None


def _open_twin(data: EntryData) -> LedgerEntry | None:
    entries = LedgerEntry.objects.filter(state__in=OPEN_STATES)
    same = _same_child(data)
    if same is not None:
        return entries.filter(same).first()
    return entries.filter(
        student=None, name=data.name, birth_date=data.birth_date, gender=data.gender
    ).first()


def _earlier_closed(data: EntryData) -> LedgerEntry | None:
    """The child's last closed entry: a new one is a rebound (反弹) linked to it."""
    same = _same_child(data)
    if same is None:
        return None
    return (
        LedgerEntry.objects.filter(same, state=State.CLOSED).order_by("-closed_at", "-id").first()
    )


def _check_evidence(evidence) -> None:
    if evidence is None:
        return
    if Path(evidence.name).suffix.lower() not in EVIDENCE_SUFFIXES:
        raise AppError(
            "证明材料只接受PDF、图片（JPG、PNG）、Word或Excel文件。", field="evidence_file"
        )
    if evidence.size > EVIDENCE_MAX_BYTES:
        raise AppError("证明材料不能超过10 MB。", field="evidence_file")


def _required(text: str, *, field_name: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AppError(message, field=field_name)
    return text


# -- timeline ----------------------------------------------------------------------------------


def _log(*, by, entry, action, state_before, note="", evidence=None) -> EntryEvent:
    event = EntryEvent(
        entry=entry,
        action=action,
        state_before=state_before,
        state_after=entry.state,
        note=note,
        actor=by,
    )
    if evidence is not None:
        event.evidence = evidence
    event.save()
    audit.record(
        actor=by,
        actor_name=None if by else RULE_ACTOR,
        action=AuditAction.CREATE if action == Action.CREATE else AuditAction.UPDATE,
        obj=entry,
        detail=f"{action.label}：{State(state_before).label + '→' if state_before else ''}"
        f"{entry.get_state_display()}",
    )
    return event


def _locked(by: User, entry: LedgerEntry, action: Action) -> LedgerEntry:
    """The entry, locked for the change, after the area and the state machine allow it."""
    entry = (
        LedgerEntry.objects.select_for_update(of=("self",))
        .select_related("student", "township")
        .get(pk=entry.pk)
    )
    if not jurisdiction.contains(by, entry):
        raise AppError("该台账记录不在您的管辖范围内。")
    require(by, permissions.key(action), entry)
    return entry


def _move(*, by, entry, action, state, note="", evidence=None, fields=()) -> LedgerEntry:
    before = entry.state
    entry.state = state
    entry.review_flag = ""  # whoever moves the entry on has looked at it
    entry.save(update_fields=["state", "review_flag", "updated_at", *fields])
    _log(by=by, entry=entry, action=action, state_before=before, note=note, evidence=evidence)
    return entry


# -- who is told ------------------------------------------------------------------------------


def _subject(entry: LedgerEntry) -> str:
    klass = entry.student.klass if entry.student is not None else None
    return subject(entry.name, school=entry.school, klass=klass)


def _name(user: User) -> str:
    return user.full_name or user.username


def approvers(entry: LedgerEntry) -> list[User]:
    """The active accounts that may approve ``entry``'s 销号 now: the county roles of the
    counties that see the entry (the responsible township's and the school's — a migrant
    child's two places), as the permission check decides (so never the proposer)."""
    size = PREFIX_LENGTH[RegionLevel.COUNTY]
    counties = {entry.township.code[:size]}
    if entry.school is not None:
        counties.add(entry.school.township.code[:size])
    candidates = User.objects.filter(
        role__in=COUNTY, is_active=True, region__level=RegionLevel.COUNTY, region__code__in=counties
    ).order_by("pk")
    action = permissions.key(Action.APPROVE)
    return [user for user in candidates if can(user, action, entry)]


def _tell_approvers(*, by: User, entry: LedgerEntry, evidence_text: str) -> None:
    reason = ClosureReason(entry.closure_reason).label
    notify(
        approvers(entry),
        kind=NotificationKind.CLOSURE_PROPOSED,
        title=f"{_subject(entry)}：申请销号（{reason}），待审核",
        body=f"{_name(by)}申请以“{reason}”销号。{evidence_text}".rstrip("。")
        + "。请核对证明材料后批准或退回。",
        link=reverse("ledger-detail", args=[entry.pk]),
    )


def _tell_proposer(
    *, by: User, entry: LedgerEntry, proposer: User | None, reason: str, comment: str
) -> None:
    """A proposal sent back waits on whoever made it: they supplement the evidence or go on
    working the case. Sent back by themselves (a county account may both propose and send
    back), nobody needs telling."""
    if proposer is None or proposer == by:
        return
    notify(
        [proposer],
        kind=NotificationKind.CLOSURE_REJECTED,
        title=f"{_subject(entry)}：销号申请被退回",
        body=f"{_name(by)}退回了以“{ClosureReason(reason).label}”提出的销号申请，"
        f"台账记录回到“{entry.get_state_display()}”。退回意见：{comment}",
        link=reverse("ledger-detail", args=[entry.pk]),
    )


# -- creating ----------------------------------------------------------------------------------


@transaction.atomic
def entry_create(*, by: User, data: EntryData) -> LedgerEntry:
    """Put a child on the ledger. A confirmed dropout records the 辍学 学籍 event; a child
    whose earlier entry was closed comes back as a rebound linked to it."""
    require(by, permissions.CREATE)
    return _open_entry(by=by, data=data)


@transaction.atomic
def entry_flag(*, student: Student, found_on: datetime.date, note: str) -> LedgerEntry:
    """The attendance rule's 疑似辍学 entry (DOMAIN.md §4): opened by the rule, not by a
    person, for the school to verify, through the same checks and constructor as every
    other entry. What the child's reason and whereabouts are is not known yet: 其他, until
    the school's verification updates them."""
    data = EntryData(
        kind=EntryKind.SUSPECTED,
        source=Source.ATTENDANCE,
        reason=Reason.OTHER,
        whereabouts=Whereabouts.OTHER,
        student=student,
        found_on=found_on,
        note=note,
    )
    return _open_entry(by=None, data=data)


def _open_entry(*, by: User | None, data: EntryData) -> LedgerEntry:
    """The one constructor of ledger entries: ``by`` a person (a page, the API, an import)
    or None for a rule (RULE_ACTOR), which acts for the whole system."""
    _check_lists(data)
    _check_child(by, data)
    _check_record(data)
    today = timezone.localdate()
    data.found_on = data.found_on or today
    student_services.not_in_future(data.found_on, field_name="found_on", label="发现日期")
    if data.school is None and by is not None and by.school_id:
        # A school that finds a child never enrolled keeps the entry with it: the school of
        # the child's catchment (002: the 中心校 keeps the ledger of children not enrolled).
        data.school = by.school
    township = _responsible_township(data)
    twin = _open_twin(data)
    if twin is not None:
        # Where the open entry stands is told only inside the user's area.
        where = (
            f"（{twin.get_kind_display()}，{twin.get_state_display()}）"
            if by is None or jurisdiction.contains(by, twin)
            else "（在您管辖范围以外）"
        )
        raise AppError(
            f"该孩子已有一条在册台账记录{where}，不能重复登记。",
            field="student" if data.student else "name",
        )
    state = State.PENDING if data.kind == EntryKind.SUSPECTED else State.CONFIRMED
    entry = LedgerEntry(
        student=data.student,
        previous=_earlier_closed(data),
        kind=data.kind,
        source=data.source,
        state=state,
        name=data.name,
        gender=data.gender,
        birth_date=data.birth_date,
        id_number=data.id_number,
        school=data.school,
        grade=data.student.grade if data.student else None,
        hukou_region=data.hukou_region,
        township=township,
        record_check=data.record_check,
        person_status=data.person_status,
        family_situation=data.family_situation,
        parent_contact=data.parent_contact,
        department_opinion=data.department_opinion,
        reason=data.reason,
        other_reasons=data.other_reasons,
        whereabouts=data.whereabouts,
        key_groups=data.key_groups,
        measures=(data.measures or "").strip(),
        found_on=data.found_on,
        reviewed_on=today,
        created_by=by,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        raise AppError("该孩子刚被登记到台账，请刷新后查看。", field="student") from None
    if by is not None and not jurisdiction.contains(by, entry):
        raise AppError("责任乡镇和学校都不在您的管辖范围内，不能登记。", field="township")
    _log(by=by, entry=entry, action=Action.CREATE, state_before="", note=data.note.strip())
    if state == State.CONFIRMED and data.student is not None:
        _record_dropout(by, entry)
    return entry


@transaction.atomic
def entry_flag_for_review(*, by: User, entry: LedgerEntry, note: str) -> LedgerEntry:
    """What opened the entry was corrected (an attendance correction took the absences
    away): the entry stays, flagged, with a line on its timeline, until someone verifies it."""
    entry = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    entry.review_flag = note
    entry.save(update_fields=["review_flag", "updated_at"])
    _log(by=by, entry=entry, action=Action.FLAG, state_before=entry.state, note=note)
    return entry


def _record_dropout(by: User, entry: LedgerEntry) -> None:
    student = entry.student
    if student.status != Status.DROPPED_OUT:
        student_services.ledger_status_change(
            by=by,
            student=student,
            kind=EventKind.DROP_OUT,
            reason=f"台账确认辍学：{entry.get_reason_display()}",
        )


# -- the state machine -------------------------------------------------------------------------


@transaction.atomic
def entry_exclude(*, by: User, entry: LedgerEntry, note: str) -> LedgerEntry:
    """核实排除: the suspected child is not out of school (ill, back in class…)."""
    entry = _locked(by, entry, Action.EXCLUDE)
    note = _required(note, field_name="note", message="请填写排除理由（核实情况）。")
    return _move(by=by, entry=entry, action=Action.EXCLUDE, state=State.EXCLUDED, note=note)


@transaction.atomic
def entry_confirm(*, by: User, entry: LedgerEntry, note: str = "") -> LedgerEntry:
    """确认辍学: the entry becomes a dropout and the 学籍 records 辍学 (人账相符)."""
    entry = _locked(by, entry, Action.CONFIRM)
    if entry.kind == EntryKind.SUSPECTED:
        entry.kind = EntryKind.DROPOUT
    _move(
        by=by,
        entry=entry,
        action=Action.CONFIRM,
        state=State.CONFIRMED,
        note=note.strip(),
        fields=("kind",),
    )
    if entry.student is not None:
        _record_dropout(by, entry)
    return entry


@transaction.atomic
def entry_assign(*, by: User, entry: LedgerEntry, township: Region, note: str = "") -> LedgerEntry:
    """The county names the township responsible for persuasion (劝返主体)."""
    entry = _locked(by, entry, Action.ASSIGN)
    if township is None or township.level != RegionLevel.TOWNSHIP:
        raise AppError("请选择负责劝返的乡镇。", field="township")
    if not jurisdiction.contains(by, township):
        raise AppError("所选乡镇不在您的管辖范围内。", field="township")
    entry.township = township
    return _move(
        by=by,
        entry=entry,
        action=Action.ASSIGN,
        state=State.PERSUADING,
        note=f"责任乡镇：{township.name}。{note.strip()}".rstrip("。") + "。",
        fields=("township",),
    )


@transaction.atomic
def entry_return(
    *, by: User, entry: LedgerEntry, note: str, student: Student | None = None
) -> LedgerEntry:
    """登记复学: the child is back in class and followed up; the 学籍 records 复学. A 未入学
    child is linked to the student record their school has since made."""
    entry = _locked(by, entry, Action.RETURN)
    note = _required(note, field_name="note", message="请填写复学情况（学校、年级、安置方式）。")
    if entry.student is None:
        if student is None or not jurisdiction.contains(by, student):
            raise AppError("请选择该孩子入学后的学生档案。", field="student")
        if student.ledger_entries.filter(state__in=OPEN_STATES).exclude(pk=entry.pk).exists():
            raise AppError("该学生已有另一条在册台账记录。", field="student")
        # The enrolling school follows the child from now on.
        entry.student, entry.school, entry.grade = student, student.school, student.grade
    student = entry.student
    if student.status in (Status.DROPPED_OUT, Status.SUSPENDED):
        student_services.ledger_status_change(
            by=by, student=student, kind=EventKind.RESUME, reason=f"劝返复学：{note}"
        )
    elif student.status not in ENROLLED_STATUSES:
        raise AppError(
            f"该学生学籍状态为“{student.get_status_display()}”，不能登记复学。", field="student"
        )
    return _move(
        by=by,
        entry=entry,
        action=Action.RETURN,
        state=State.RETURNED,
        note=note,
        fields=("student", "school", "grade"),
    )


@transaction.atomic
def entry_propose_closure(
    *, by: User, entry: LedgerEntry, reason: str, evidence_text: str = "", evidence_file=None
) -> LedgerEntry:
    """申请销号: a reason from the list and evidence (text, a file, or both)."""
    entry = _locked(by, entry, Action.PROPOSE)
    _choice(reason, ClosureReason, field_name="closure_reason", label="销号原因")
    evidence_text = (evidence_text or "").strip()
    if not evidence_text and evidence_file is None:
        raise AppError("销号须提供证明材料：上传文件或填写证明情况。", field="evidence_text")
    _check_evidence(evidence_file)
    if reason == ClosureReason.RETURNED and entry.state != State.RETURNED:
        raise AppError("以“已复学”销号前，须先登记复学并跟踪。", field="closure_reason")
    entry.proposed_from, entry.closure_reason = entry.state, reason
    _move(
        by=by,
        entry=entry,
        action=Action.PROPOSE,
        state=State.PROPOSED,
        note=f"{ClosureReason(reason).label}。{evidence_text}".rstrip("。") + "。",
        evidence=evidence_file,
        fields=("proposed_from", "closure_reason"),
    )
    _tell_approvers(by=by, entry=entry, evidence_text=evidence_text)
    return entry


@transaction.atomic
def entry_approve(*, by: User, entry: LedgerEntry, comment: str = "") -> LedgerEntry:
    """The county approves 销号; the entry closes for good and the 学籍 follows."""
    entry = _locked(by, entry, Action.APPROVE)
    reason = ClosureReason(entry.closure_reason)
    student = entry.student
    kind = CLOSURE_EVENTS.get(reason)
    # 学籍 follows unless it already says what the closure says (a returned child is 在读).
    if student is not None and kind is not None and student.status != RESULTING_STATUS[kind]:
        student_services.ledger_status_change(
            by=by,
            student=student,
            kind=kind,
            reason=f"台账销号：{reason.label}",
            destination=CLOSURE_DESTINATIONS.get(reason, ""),
        )
    entry.closed_at = timezone.now()
    return _move(
        by=by,
        entry=entry,
        action=Action.APPROVE,
        state=State.CLOSED,
        note=comment.strip(),
        fields=("closed_at",),
    )


@transaction.atomic
def entry_reject(*, by: User, entry: LedgerEntry, comment: str) -> LedgerEntry:
    """The county sends a closure proposal back, with the reason; the entry returns to the
    state it was proposed from."""
    entry = _locked(by, entry, Action.REJECT)
    comment = _required(comment, field_name="comment", message="请填写退回意见。")
    back, reason = State(entry.proposed_from), entry.closure_reason
    proposer = selectors.proposer_of(entry)
    entry.proposed_from, entry.closure_reason = "", ""
    _move(
        by=by,
        entry=entry,
        action=Action.REJECT,
        state=back,
        note=comment,
        fields=("proposed_from", "closure_reason"),
    )
    _tell_proposer(by=by, entry=entry, proposer=proposer, reason=reason, comment=comment)
    return entry


@transaction.atomic
def entry_reopen(*, by: User, entry: LedgerEntry, note: str) -> LedgerEntry:
    """An exclusion made in error goes back to 待核实; a returned child who stopped coming
    again during the follow-up is a confirmed dropout again."""
    entry = _locked(by, entry, Action.REOPEN)
    note = _required(note, field_name="note", message="请填写重新打开的原因。")
    target = REOPENED_STATE[State(entry.state)]
    _move(by=by, entry=entry, action=Action.REOPEN, state=target, note=note)
    if target == State.CONFIRMED and entry.student is not None:
        _record_dropout(by, entry)
    return entry


@transaction.atomic
def entry_review(*, by: User, entry: LedgerEntry, note: str) -> LedgerEntry:
    """学期分类: the entry is classified for its current term (due within a month of the
    term's start, ledger.terms); the timeline names the term of the entry's own calendar."""
    entry = _locked(by, entry, Action.REVIEW)
    note = _required(note, field_name="note", message="请填写本学期核查情况。")
    entry.reviewed_on = timezone.localdate()
    term = terms.own_calendar(entry).latest_term(entry.reviewed_on)
    return _move(
        by=by,
        entry=entry,
        action=Action.REVIEW,
        state=State(entry.state),
        note=f"{term.name}：{note}" if term is not None else note,
        fields=("reviewed_on",),
    )


@transaction.atomic
def entry_update(
    *,
    by: User,
    entry: LedgerEntry,
    reason: str,
    whereabouts: str,
    other_reasons: list[str] | None = None,
    measures: str | None = None,
    note: str = "",
) -> LedgerEntry:
    """更新情况: reasons, whereabouts and the measures taken, while the entry is open."""
    entry = _locked(by, entry, Action.UPDATE)
    data = EntryData(
        kind=entry.kind,
        source=entry.source,
        reason=reason,
        whereabouts=whereabouts,
        other_reasons=list(entry.other_reasons if other_reasons is None else other_reasons),
    )
    _check_lists(data)
    before = audit.snapshot(entry)
    entry.reason, entry.whereabouts = data.reason, data.whereabouts
    entry.other_reasons = data.other_reasons
    if measures is not None:  # left out: the measures stay as they were
        entry.measures = measures.strip()
    if audit.snapshot(entry) == before and not note.strip():
        return entry
    changes = audit.diff(before, audit.snapshot(entry))
    labels = "、".join(LedgerEntry._meta.get_field(name).verbose_name for name in changes)
    summary = f"更新了{labels}。" if labels else ""
    return _move(
        by=by,
        entry=entry,
        action=Action.UPDATE,
        state=State(entry.state),
        note=f"{summary}{note.strip()}",
        fields=("reason", "whereabouts", "other_reasons", "measures"),
    )
