"""Writes to 劝返 cases (DOMAIN.md §7, issue 12). Pages, the API and the tasks call these;
each is atomic, checks the area and the state machine (returns.transitions) first, bumps the
case's ``version`` and writes a line on its timeline. The ledger entry moves only through the
ledger's own services (entry_assign, entry_return)."""

import datetime
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image, ImageOps

from accounts import audit, jurisdiction
from accounts.choices import SCHOOL_ROLES, AuditAction, NotificationKind, RegionLevel, Role
from accounts.models import Region, School, SchoolClass, User, grade_label
from accounts.notifications import notify, subject
from accounts.permissions import require
from accounts.selectors import recipients_for_township
from kongchuo import offline
from kongchuo.errors import AppError
from ledger import services as ledger_services
from ledger.choices import State as EntryState
from ledger.models import LedgerEntry
from students.calendar import calendar_for
from students.choices import KeyGroup
from students.models import Student

from . import selectors
from .choices import (
    OPEN_CASE_STATES,
    Action,
    CaseState,
    Department,
    Duty,
    Help,
    Method,
    Placement,
    ResponsibleRule,
    Step,
)
from .models import (
    CaseAction,
    CaseAttachment,
    CaseEvent,
    CaseMember,
    CasePlan,
    OfflineVisit,
    ReturnCase,
)
from .permissions import key, townships
from .transitions import check_step, refusal

# Who the timeline and the audit trail name for what the follow-up watch writes.
RULE_ACTOR = "系统（复学跟踪）"
# 结对包保: the roles each duty is taken by.
DUTY_ROLES = {
    Duty.CADRE: frozenset({Role.TOWNSHIP_OFFICIAL, Role.COUNTY_STAFF}),
    Duty.VILLAGE_CADRE: frozenset({Role.VILLAGE_CADRE}),
    Duty.TEACHER: SCHOOL_ROLES,
}
# Attachments are recognised by their first bytes, not by their name or declared type.
_SIGNATURES = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg", "JPEG"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png", "PNG"),
    b"%PDF-": ("application/pdf", "pdf", None),
}


# -- who persuades -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """The responsible party the rules name (劝返主体): ``township`` None means the county
    holds the case; ``notice_to`` is the region the case's written notice goes to."""

    township: Region | None
    rule: ResponsibleRule
    explanation: str
    co_township: Region | None = None
    notice_to: Region | None = None


def _township_of(region: Region | None) -> Region | None:
    if region is None or region.level < RegionLevel.TOWNSHIP:
        return None
    return region if region.level == RegionLevel.TOWNSHIP else region.parent


def entry_county(entry: LedgerEntry) -> Region:
    """The county that keeps the case: the county of the child's school, or for a child
    without one, of the entry's township."""
    return (entry.school.township if entry.school_id else entry.township).parent


def propose_responsible(entry: LedgerEntry, *, moved_after_dropout: bool = False) -> Proposal:
    """Who persuades (DOMAIN.md §7; 003, 004): a migrant child who dropped out where they
    study → the township of the school; a 户籍地 outside the county → the county holds the
    case and tells the other county in writing; a child who moved after dropping out → the
    earlier township (the school's), telling the 户籍 township, which works the case with
    it; otherwise the township of the 户籍地."""
    county = entry_county(entry)
    study = entry.school.township if entry.school_id else None
    hukou = _township_of(entry.hukou_region)
    migrant = entry.student.migrant if entry.student_id else KeyGroup.MIGRANT in entry.key_groups
    if study is not None and (migrant or hukou is None):
        why = "随迁子女在就读地辍学" if migrant else "户籍地未登记"
        return Proposal(
            study, ResponsibleRule.STUDY_PLACE, f"{why}，由就读学校所在的{study.name}劝返。"
        )
    if hukou is None:
        return Proposal(
            entry.township, ResponsibleRule.HUKOU, f"由台账登记的{entry.township.name}劝返。"
        )
    if hukou.parent_id != county.pk:
        other = hukou.parent
        return Proposal(
            None,
            ResponsibleRule.OUTSIDE_COUNTY,
            f"户籍地{other.name}{hukou.name}在本县以外：县教体局书面告知{other.name}，"
            "并暂管本案件直至对方接手。",
            notice_to=other,
        )
    if moved_after_dropout and study is not None and study != hukou:
        return Proposal(
            study,
            ResponsibleRule.MOVED,
            f"辍学后迁出：由原乡镇{study.name}劝返，并书面告知户籍地{hukou.name}共同劝返。",
            co_township=hukou,
            notice_to=hukou,
        )
    return Proposal(hukou, ResponsibleRule.HUKOU, f"由户籍地{hukou.name}劝返。")


# -- helpers -----------------------------------------------------------------------------------


def _required(text: str, *, field_name: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AppError(message, field=field_name)
    return text


def _choices(values: Iterable[str], choices, *, field_name: str, label: str) -> list[str]:
    values = list(dict.fromkeys(values or ()))
    for value in values:
        if value not in choices.values:
            raise AppError(f"“{value}”不是有效的{label}，请从列表中选择。", field=field_name)
    return values


def _in_county(county: Region, *, region: Region | None = None, school: School | None = None):
    code = region.code if region is not None else school.township.code
    return code.startswith(county.prefix)


def _name(user: User) -> str:
    return user.full_name or user.username


def case_subject(case: ReturnCase) -> str:
    entry = case.entry
    klass = entry.student.klass if entry.student_id else None
    return subject(entry.name, school=entry.school, klass=klass)


def _locked(
    by: User, case: ReturnCase, action: Action, base_version: int | None = None
) -> ReturnCase:
    """The case, locked for the change, after the area and the permission allow it; with
    ``base_version`` (an edit made offline), refused with ``offline.Conflict`` when the case
    has changed since (reassigned, closed, another action)."""
    case = (
        ReturnCase.objects.select_for_update(of=("self",))
        .select_related("entry__student__klass", "entry__school", "county", "township")
        .get(pk=case.pk)
    )
    if not jurisdiction.contains(by, case):
        away = _left_by(by, case) if base_version is not None and action == Action.ACTION else None
        if away is None:
            raise AppError("该劝返案件不在您的管辖范围内。")
        return _locked_away(by, case, away, base_version)
    if base_version is not None and base_version != case.version:
        raise offline.Conflict(
            f"{case_subject(case)}的劝返案件在您离线期间已有变动（{case.get_state_display()}，"
            f"{case.township or case.county}），请对照后选择保留哪一份。",
            current=case,
            base=case.version,
        )
    require(by, key(action), case)
    return case


def _left_by(by: User, case: ReturnCase) -> CaseEvent | None:
    """The reassignment (改派) that took ``case`` out of the area of ``by``, who worked it before
    (on its team, on its timeline or in one of its visits), or None: for anyone else a case
    outside their area stays unknown (404)."""
    if not (
        case.members.filter(user=by).exists()
        or case.events.filter(actor=by).exists()
        or case.actions.filter(participants=by).exists()
    ):
        return None
    return case.events.filter(action=Action.REASSIGN).select_related("region").last()


def _locked_away(by: User, case: ReturnCase, away: CaseEvent, base_version: int) -> ReturnCase:
    """A visit its former worker recorded offline on a case reassigned away meanwhile: a 409
    telling only where and when it went (none of the child's data), then, sent again on the
    version it gives (保留我的), recorded on the case if the role and the case's state allow."""
    if base_version != case.version:
        raise offline.Conflict(
            f"该劝返案件已于{timezone.localtime(away.at):%Y-%m-%d}改派至{away.region.name}，"
            "您已不能查看。保留我的：这条劝返记录以您的名义补登到该案件并通知新的责任乡镇；"
            "也可以删除它。",
            current={
                "id": case.pk,
                "reassigned": True,
                "township_name": away.region.name,
                "reassigned_at": timezone.localtime(away.at).isoformat(),
            },
            base=case.version,
        )
    # The reassignment left the case 待签收 for the new township; the former worker's visit is
    # of the time they worked it, so only the role and a closed case refuse it.
    state = None if case.state == CaseState.INSTRUCTED else case.state
    reason = refusal(Action.ACTION, state, by)
    if reason is not None:
        raise AppError(reason)
    return case


def _save(case: ReturnCase, *fields: str) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version", "updated_at"])


def _log(
    *, by, case, action: Action, state_before: str, step_before=None, note="", region=None
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        action=action,
        state_before=state_before,
        state_after=case.state,
        step_before=case.step if step_before is None else step_before,
        step_after=case.step,
        region=region,
        note=note,
        actor=by,
    )
    audit.record(
        actor=by,
        actor_name=None if by else RULE_ACTOR,
        action=AuditAction.CREATE if action == Action.OPEN else AuditAction.UPDATE,
        obj=case,
        detail=f"{action.label}：{note}"[:200],
    )
    return event


def _township_officials(case: ReturnCase) -> list[User]:
    return [
        user
        for township in (case.township, case.co_township)
        if township is not None
        for user in recipients_for_township(township)
    ]


def _tell_townships(*, by: User, case: ReturnCase) -> None:
    """The instruction (劝返指令) goes to the officials of the township(s), who sign for it."""
    notify(
        _township_officials(case),
        kind=NotificationKind.RETURN_CASE,
        title=f"{case_subject(case)}：劝返指令，请签收",
        body=f"{_name(by)}下达劝返指令（{case.get_responsible_rule_display()}）。"
        f"{case.responsible_note}请在{settings.RETURNS_ACK_DAYS}日内签收，"
        "组建包保小组并制定劝返方案。",
        link=case.get_absolute_url(),
    )


# -- instruction -------------------------------------------------------------------------------


@transaction.atomic
def case_open(
    *,
    by: User,
    entry: LedgerEntry,
    township: Region | None = None,
    reason: str = "",
    moved_after_dropout: bool = False,
    note: str = "",
) -> ReturnCase:
    """The county opens the case of a confirmed dropout: the rules propose who persuades
    (``propose_responsible``); a different ``township`` needs a ``reason``. The instruction
    goes to the township and the ledger entry moves to 劝返中 (ledger.services.entry_assign).
    A case the county holds (户籍地在县外) keeps the entry with the township of the child's
    school, which sees the child and can act on the ledger side once the case is taken over."""
    require(by, key(Action.OPEN))
    entry = LedgerEntry.objects.select_related(
        "school__township__parent", "township__parent", "hukou_region__parent", "student"
    ).get(pk=entry.pk)
    if not jurisdiction.contains(by, entry):
        raise AppError("该台账记录不在您的管辖范围内。", field="entry")
    if entry.state != EntryState.CONFIRMED:
        raise AppError(
            f"只有“已确认辍学”的台账记录可以下达劝返指令（该记录为“{entry.get_state_display()}”）。",
            field="entry",
        )
    if entry.cases.filter(state__in=OPEN_CASE_STATES).exists():
        raise AppError("该台账记录已有未结案的劝返案件。", field="entry")
    county = entry_county(entry)
    if not jurisdiction.contains(by, county):
        raise AppError("该孩子的学校在其他县，劝返指令由该县教体局下达。", field="entry")
    proposal = propose_responsible(entry, moved_after_dropout=moved_after_dropout)
    rule, co_township, override = proposal.rule, proposal.co_township, ""
    if township is not None and township != proposal.township:
        if township.level != RegionLevel.TOWNSHIP or not _in_county(county, region=township):
            raise AppError("请选择本县的乡镇作为劝返主体。", field="township")
        override = _required(
            reason,
            field_name="reason",
            message=f"按规则应由{proposal.township or '县教体局'}劝返（{proposal.rule.label}），"
            "改派须填写理由。",
        )
        rule = ResponsibleRule.COUNTY_CHOICE
        co_township = co_township if co_township != township else None
    else:
        township = proposal.township
    ledger_township = township or (entry.school.township if entry.school_id else None)
    if ledger_township is None:
        raise AppError(
            "户籍地在县外且没有就读学校：请指定负责劝返的乡镇并填写理由。", field="township"
        )
    ledger_services.entry_assign(
        by=by, entry=entry, township=ledger_township, note=f"劝返指令：{rule.label}。{override}"
    )
    case = ReturnCase(
        entry=entry,
        county=county,
        township=township,
        co_township=co_township,
        school=entry.school,
        responsible_rule=rule,
        responsible_note=proposal.explanation,
        override_reason=override,
        state=CaseState.INSTRUCTED if township is not None else CaseState.WORKING,
        instructed_by=by,
        instructed_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        raise AppError("该台账记录刚刚下达了劝返指令，请刷新后查看。", field="entry") from None
    if not jurisdiction.contains(by, case):
        raise AppError("所选乡镇不在您的管辖范围内。", field="township")
    text = " ".join(part for part in (proposal.explanation, override, note.strip()) if part)
    _log(by=by, case=case, action=Action.OPEN, state_before="", note=text, region=township)
    if proposal.notice_to is not None:
        _log(
            by=by,
            case=case,
            action=Action.NOTICE,
            state_before=case.state,
            note=proposal.explanation,
            region=proposal.notice_to,
        )
    _tell_townships(by=by, case=case)
    return case


@transaction.atomic
def case_acknowledge(*, by: User, case: ReturnCase, note: str = "") -> ReturnCase:
    """签收: the township takes the case on; 宣传教育 starts."""
    case = _locked(by, case, Action.ACKNOWLEDGE)
    case.state, case.acknowledged_by, case.acknowledged_at = CaseState.WORKING, by, timezone.now()
    _save(case, "state", "acknowledged_by", "acknowledged_at")
    _log(
        by=by,
        case=case,
        action=Action.ACKNOWLEDGE,
        state_before=CaseState.INSTRUCTED,
        note=note.strip(),
    )
    return case


@transaction.atomic
def case_reassign(*, by: User, case: ReturnCase, township: Region, reason: str) -> ReturnCase:
    """The county names another township (县级改派): a new instruction to sign for; the
    ledger's 劝返主体 follows."""
    case = _locked(by, case, Action.REASSIGN)
    if (
        township is None
        or township.level != RegionLevel.TOWNSHIP
        or not _in_county(case.county, region=township)
    ):
        raise AppError("请选择本县的乡镇作为劝返主体。", field="township")
    if township.pk == case.township_id:
        raise AppError(f"{township.name}已是本案件的责任乡镇。", field="township")
    reason = _required(reason, field_name="reason", message="请填写改派理由。")
    ledger_services.entry_assign(
        by=by, entry=case.entry, township=township, note=f"改派劝返主体：{reason}"
    )
    before = case.state
    case.township = township
    if case.co_township_id == township.pk:
        case.co_township = None
    case.responsible_rule, case.override_reason = ResponsibleRule.COUNTY_CHOICE, reason
    case.state, case.instructed_by, case.instructed_at = CaseState.INSTRUCTED, by, timezone.now()
    case.acknowledged_by = case.acknowledged_at = None
    _save(
        case,
        "township",
        "co_township",
        "responsible_rule",
        "override_reason",
        "state",
        "instructed_by",
        "instructed_at",
        "acknowledged_by",
        "acknowledged_at",
    )
    _log(
        by=by, case=case, action=Action.REASSIGN, state_before=before, note=reason, region=township
    )
    _tell_townships(by=by, case=case)
    return case


@transaction.atomic
def case_notice(*, by: User, case: ReturnCase, region: Region, text: str) -> CaseEvent:
    """书面告知: the case's written notice to another township (the 户籍 township of a child
    who moved) or another county (户籍地在县外), on the timeline; that region's officials, or
    its county bureau, are told."""
    case = _locked(by, case, Action.NOTICE)
    if region is None or region.level not in (RegionLevel.TOWNSHIP, RegionLevel.COUNTY):
        raise AppError("请选择告知的乡镇或县。", field="region")
    if region.pk in townships(case) or region.pk == case.county_id:
        raise AppError("告知对象应为本案件责任单位以外的乡镇或县。", field="region")
    text = _required(text, field_name="text", message="请填写告知内容。")
    _save(case)
    event = _log(
        by=by, case=case, action=Action.NOTICE, state_before=case.state, note=text, region=region
    )
    recipients = (
        recipients_for_township(region)
        if region.level == RegionLevel.TOWNSHIP
        else selectors.county_staff(region)
    )
    # No link: the addressee is outside the case's area until it takes the case over.
    notify(
        recipients,
        kind=NotificationKind.RETURN_CASE,
        title=f"{case_subject(case)}：劝返书面告知",
        body=f"{_name(by)}告知：{text}",
    )
    return event


# -- team and plan -----------------------------------------------------------------------------


def duty_for(user: User) -> Duty:
    """The duty an account takes on a team by its role (DUTY_ROLES); a role that fits none
    gets 包保干部, which the team check then refuses naming the role."""
    return next((duty for duty, roles in DUTY_ROLES.items() if user.role in roles), Duty.CADRE)


def _check_member(case: ReturnCase, user: User, duty: str) -> None:
    if duty not in Duty.values:
        raise AppError(f"“{duty}”不是有效的包保身份。", field="members")
    in_county = (
        user.is_active
        and (user.region_id or user.school_id)
        and _in_county(case.county, region=user.region, school=user.school)
    )
    if not in_county:
        raise AppError(f"{_name(user)}不是本县的在用账号，不能加入包保。", field="members")
    if user.role not in DUTY_ROLES[Duty(duty)]:
        raise AppError(
            f"{_name(user)}的角色为“{user.get_role_display()}”，不能担任{Duty(duty).label}。",
            field="members",
        )


def _team(*, by: User, case: ReturnCase, wanted: dict[int, tuple[User, str]]) -> list[CaseMember]:
    for user, duty in wanted.values():
        _check_member(case, user, duty)
    current = {member.user_id: member for member in case.members.select_related("user")}
    changes = []
    for pk, member in current.items():
        if pk not in wanted:
            member.delete()
            changes.append(f"退出：{_name(member.user)}")
        elif member.duty != wanted[pk][1]:
            member.duty = wanted[pk][1]
            member.save(update_fields=["duty"])
            changes.append(f"改为{member.get_duty_display()}：{_name(member.user)}")
    added = [
        CaseMember.objects.create(case=case, user=user, duty=duty, added_by=by)
        for pk, (user, duty) in wanted.items()
        if pk not in current
    ]
    changes += [f"加入：{_name(member.user)}（{member.get_duty_display()}）" for member in added]
    if changes:
        _save(case)
        _log(by=by, case=case, action=Action.TEAM, state_before=case.state, note="；".join(changes))
        notify(
            [member.user for member in added],
            kind=NotificationKind.RETURN_CASE,
            title=f"{case_subject(case)}：您已加入劝返包保小组",
            body=f"{_name(by)}将您加入该生的结对包保。",
            link=case.get_absolute_url(),
        )
    return list(case.members.select_related("user"))


@transaction.atomic
def team_set(
    *, by: User, case: ReturnCase, members: Iterable[tuple[User, str]]
) -> list[CaseMember]:
    """结对包保: the case's team becomes ``members`` (account, duty); joins, departures and
    duty changes go on the timeline and the new members are told."""
    case = _locked(by, case, Action.TEAM)
    return _team(by=by, case=case, wanted={user.pk: (user, duty) for user, duty in members})


@transaction.atomic
def member_add(*, by: User, case: ReturnCase, user: User, duty: str) -> list[CaseMember]:
    case = _locked(by, case, Action.TEAM)
    wanted = {member.user_id: (member.user, member.duty) for member in case.members.all()}
    wanted[user.pk] = (user, duty)
    return _team(by=by, case=case, wanted=wanted)


@transaction.atomic
def member_remove(*, by: User, case: ReturnCase, user: User) -> list[CaseMember]:
    case = _locked(by, case, Action.TEAM)
    wanted = {member.user_id: (member.user, member.duty) for member in case.members.all()}
    if wanted.pop(user.pk, None) is None:
        raise AppError(f"{_name(user)}不在本案件的包保小组中。", field="user")
    return _team(by=by, case=case, wanted=wanted)


@transaction.atomic
def plan_save(
    *, by: User, case: ReturnCase, cause: str, measures: str, help: Iterable[str] = ()
) -> CasePlan:
    """一人一案: a new version of the case's plan; the earlier ones stay."""
    case = _locked(by, case, Action.PLAN)
    cause = _required(cause, field_name="cause", message="请填写原因分析。")
    measures = _required(measures, field_name="measures", message="请填写劝返措施。")
    offered = _choices(help, Help, field_name="help", label="帮扶措施")
    version = (case.plans.aggregate(last=Max("version"))["last"] or 0) + 1
    plan = CasePlan.objects.create(
        case=case, version=version, cause=cause, measures=measures, help=offered, author=by
    )
    _save(case)
    _log(by=by, case=case, action=Action.PLAN, state_before=case.state, note=f"第{version}版方案")
    return plan


# -- actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Upload:
    name: str
    content_type: str
    data: bytes
    sha256: str


def _strip_metadata(data: bytes, image_format: str, name: str) -> bytes:
    """The picture re-encoded without its metadata (EXIF with GPS, text chunks), turned the
    way it was taken first, since the orientation tag goes with the rest."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            clean = ImageOps.exif_transpose(image)
            if image_format == "JPEG" and clean.mode not in ("RGB", "L"):
                clean = clean.convert("RGB")
            clean.info = {}
            out = io.BytesIO()
            clean.save(out, image_format)
    except (OSError, ValueError, Image.DecompressionBombError):
        raise AppError(f"附件“{name}”无法识别为图片。", field="attachments") from None
    return out.getvalue()


def _clean_upload(upload) -> _Upload:
    limit = settings.RETURNS_ATTACHMENT_MAX_BYTES
    name = getattr(upload, "name", "") or "附件"
    if upload.size > limit:
        raise AppError(
            f"附件“{name}”超过{limit / 1024 / 1024:g} MB，请压缩后上传。", field="attachments"
        )
    data = upload.read()
    for signature, (content_type, extension, image_format) in _SIGNATURES.items():
        if data.startswith(signature):
            if image_format is not None:
                data = _strip_metadata(data, image_format, name)
            digest = hashlib.sha256(data).hexdigest()
            return _Upload(f"{digest[:16]}.{extension}", content_type, data, digest)
    raise AppError(f"附件“{name}”不是图片（JPG、PNG）或PDF文件。", field="attachments")


@transaction.atomic
def action_record(
    *,
    by: User,
    case: ReturnCase,
    date: datetime.date | None,
    method: str,
    result: str,
    participants: Iterable[User] = (),
    participant_names: str = "",
    departments: Iterable[str] = (),
    attachments: Iterable = (),
    base_version: int | None = None,
) -> CaseAction:
    """One persuasion action (上门, 电话, 约谈, 联合劝返 with the departments that joined) with
    who took part (the recorder always), what came of it, and photos or PDFs. ``base_version``:
    the case's version the phone edited (``action_record_offline``)."""
    case = _locked(by, case, Action.ACTION, base_version)
    if date is None:
        raise AppError("请填写劝返日期。", field="date")
    if date > timezone.localdate():
        raise AppError("劝返日期不能晚于今天。", field="date")
    if date < case.entry.found_on:
        raise AppError(
            f"劝返日期不能早于发现辍学的日期（{case.entry.found_on:%Y-%m-%d}）。", field="date"
        )
    if method not in Method.values:
        raise AppError("请选择劝返方式。", field="method")
    result = _required(result, field_name="result", message="请填写劝返情况及结果。")
    departments = _choices(departments, Department, field_name="departments", label="参与部门")
    if method == Method.JOINT and not departments:
        raise AppError("联合劝返须选择参与的部门。", field="departments")
    if method != Method.JOINT and departments:
        raise AppError("只有联合劝返才填写参与部门。", field="departments")
    people = {user.pk: user for user in participants}
    for user in people.values():
        if not (user.region_id or user.school_id) or not _in_county(
            case.county, region=user.region, school=user.school
        ):
            raise AppError(f"{_name(user)}不是本县的账号。", field="participants")
    uploads = [_clean_upload(upload) for upload in attachments]
    action = CaseAction.objects.create(
        case=case,
        date=date,
        step=case.step,
        method=method,
        departments=departments,
        participant_names=participant_names.strip(),
        result=result,
        recorded_by=by,
    )
    action.participants.set([by, *people.values()])
    for upload in uploads:
        CaseAttachment.objects.create(
            action=action,
            file=ContentFile(upload.data, name=upload.name),
            content_type=upload.content_type,
            size=len(upload.data),
            sha256=upload.sha256,
        )
    case.last_action_on = max(date, case.last_action_on or date)
    _save(case, "last_action_on")
    _log(
        by=by,
        case=case,
        action=Action.ACTION,
        state_before=case.state,
        note=f"{date:%Y-%m-%d} {Method(method).label}：{result}",
    )
    return action


def _tell_townships_of_visit(*, by: User, action: CaseAction) -> None:
    case = action.case
    notify(
        _township_officials(case),
        kind=NotificationKind.RETURN_CASE,
        title=f"{case_subject(case)}：原包保人员补登了劝返记录",
        body=f"{_name(by)}离线登记的{action.date:%Y-%m-%d}{action.get_method_display()}记录"
        "在案件改派后收到，已补登到本案件，请查看。",
        link=case.get_absolute_url(),
    )


def left_case(by: User, pk) -> ReturnCase | None:
    """The case ``pk`` if it was reassigned out of the area of ``by``, who worked it: the
    offline-visit API's look-up when the case is no longer in their area (else None)."""
    case = (
        ReturnCase.objects.filter(pk=pk).first()
        if str(pk).isascii() and str(pk).isdigit()
        else None
    )
    if case is None or jurisdiction.contains(by, case) or _left_by(by, case) is None:
        return None
    return case


@transaction.atomic
def action_record_offline(
    *, by: User, case: ReturnCase, client_id, base_version: int, **fields
) -> dict:
    """A home visit recorded offline and sent later (issue 17): ``action_record`` once per
    ``client_id`` (a replay answers the same result), refused with ``offline.Conflict`` and
    the server's copy when the case changed since ``base_version``. A visit kept by a former
    worker of a case reassigned away (``_locked_away``) is told to the responsible township."""

    def write():
        action = action_record(by=by, case=case, base_version=base_version, **fields)
        if not jurisdiction.contains(by, action.case):
            _tell_townships_of_visit(by=by, action=action)
        return {
            "action": action.pk,
            "case": action.case_id,
            "version": action.case.version,
            "date": action.date.isoformat(),
            "method": action.get_method_display(),
            "attachments": action.attachments.count(),
        }, {"action": action}

    return offline.once(OfflineVisit, client_id=client_id, by=by, write=write)


@transaction.atomic
def step_advance(
    *,
    by: User,
    case: ReturnCase,
    step: int,
    reason: str = "",
    deadline: datetime.date | None = None,
) -> ReturnCase:
    """The next step of the 四步法 (returns.transitions.check_step): forward only, a reason
    for a skip, a deadline for 责令改正, and not past 责令改正 before its deadline."""
    case = _locked(by, case, Action.STEP)
    before = case.step
    target = check_step(
        current=before,
        target=step,
        reason=reason,
        deadline=deadline,
        current_deadline=case.step_deadline,
        today=timezone.localdate(),
    )
    case.step = target
    if target == Step.ORDER:
        case.step_deadline = deadline
    _save(case, "step", "step_deadline")
    parts = [f"{Step(before).label}→{target.label}"]
    if target == Step.ORDER:
        parts.append(f"限期改正至{deadline:%Y-%m-%d}")
    if reason.strip():
        parts.append(reason.strip())
    _log(
        by=by,
        case=case,
        action=Action.STEP,
        state_before=case.state,
        step_before=before,
        note="。".join(parts),
    )
    return case


# -- outcomes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeSuggestion:
    grade: int | None  # None: by age and an assessment
    months: int
    explanation: str


def months_between(start: datetime.date, end: datetime.date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day))


def suggested_grade(entry: LedgerEntry, on: datetime.date) -> GradeSuggestion:
    """The grade to return to by time out of school (RETURNS_GRADE_BY_MONTHS): the same grade
    under 3 months, one lower under 12, beyond that by age and an assessment."""
    months = months_between(entry.found_on, on)
    if entry.grade:
        for limit, lower in settings.RETURNS_GRADE_BY_MONTHS:
            if months < limit:
                grade = max(1, entry.grade - lower)
                how = "原年级" if lower == 0 else f"降{lower}个年级"
                return GradeSuggestion(
                    grade, months, f"离校{months}个月，建议{how}：{grade_label(grade)}。"
                )
    why = f"离校{months}个月" if entry.grade else "未入学儿童"
    return GradeSuggestion(None, months, f"{why}，按年龄和评估确定复学年级。")


def follow_up_end(school: School, start: datetime.date) -> datetime.date:
    """The last day of the follow-up: RETURNS_FOLLOW_UP_SCHOOL_DAYS school days of the school's
    calendar after ``start`` (weekdays where the calendar has not been set that far)."""
    wanted = settings.RETURNS_FOLLOW_UP_SCHOOL_DAYS
    days = calendar_for(school).school_days(
        start + datetime.timedelta(days=1), start + datetime.timedelta(days=400)
    )
    if len(days) >= wanted:
        return days[wanted - 1]
    day, counted = start, 0
    while counted < wanted:
        day += datetime.timedelta(days=1)
        counted += day.weekday() < 5
    return day


@transaction.atomic
def case_return(
    *,
    by: User,
    case: ReturnCase,
    placement: str,
    school: School | None = None,
    klass: SchoolClass | None = None,
    grade: int | None = None,
    returned_on: datetime.date | None = None,
    note: str = "",
    student: Student | None = None,
) -> ReturnCase:
    """复学: the placement, the receiving school, class and grade (by default the suggested
    one), then the ledger entry to 已复学（跟踪） through ledger.services.entry_return, which
    records the 复学 学籍 event (and links a 未入学 child to ``student``). The follow-up runs
    RETURNS_FOLLOW_UP_SCHOOL_DAYS school days."""
    case = _locked(by, case, Action.RETURN)
    entry = case.entry
    if placement not in Placement.values:
        raise AppError("请选择安置方式。", field="placement")
    today = timezone.localdate()
    returned_on = returned_on or today
    if returned_on > today:
        raise AppError("复学日期不能晚于今天。", field="returned_on")
    if returned_on < entry.found_on:
        raise AppError("复学日期不能早于发现辍学的日期。", field="returned_on")
    child = student or entry.student
    school = school or (klass.school if klass else None) or (child.school if child else None)
    if school is None or not _in_county(case.county, school=school):
        raise AppError("请选择本县的复学学校。", field="school")
    if klass is not None and klass.school_id != school.pk:
        raise AppError("复学班级应为复学学校的班级。", field="klass")
    suggestion = suggested_grade(entry, returned_on)
    grade = grade or (klass.grade if klass else None) or suggestion.grade
    if grade is None:
        raise AppError(f"{suggestion.explanation}请填写复学年级。", field="grade")
    if not 1 <= int(grade) <= 9:
        raise AppError("复学年级应在1–9之间（小学一年级至初三）。", field="grade")
    if klass is not None and klass.grade != grade:
        raise AppError("复学班级的年级与复学年级不一致。", field="klass")
    where = f"{school.name}{grade_label(grade)}{klass.name if klass else ''}"
    text = f"{Placement(placement).label}：{where}。{note.strip()}".rstrip("。") + "。"
    ledger_services.entry_return(by=by, entry=entry, note=text, student=student)
    before = case.state
    case.state, case.placement, case.returned_on = CaseState.RETURNED, placement, returned_on
    case.return_school, case.return_class, case.return_grade = school, klass, grade
    case.follow_up_until = follow_up_end(school, returned_on)
    _save(
        case,
        "state",
        "placement",
        "returned_on",
        "return_school",
        "return_class",
        "return_grade",
        "follow_up_until",
    )
    _log(
        by=by,
        case=case,
        action=Action.RETURN,
        state_before=before,
        note=f"{text}跟踪至{case.follow_up_until:%Y-%m-%d}。",
    )
    return case


def deferral_grounds(case: ReturnCase, *, court_ruling: bool = False) -> list[str]:
    """Which grounds for 延缓入学/休学 hold (003, 004; the settings name those that count)."""
    grounds = []
    if settings.RETURNS_DEFER_AFTER_ALL_STEPS and case.step == Step.COURT:
        grounds.append("四步法已全部完成")
    needed = settings.RETURNS_DEFER_JOINT_ACTIONS
    if needed and selectors.joint_count(case) >= needed:
        grounds.append(f"联合劝返已达{needed}次")
    if settings.RETURNS_DEFER_COURT_RULING and court_ruling:
        grounds.append("法院已判决且监护人已履行义务")
    return grounds


@transaction.atomic
def case_defer(
    *, by: User, case: ReturnCase, reason: str, court_ruling: bool = False
) -> ReturnCase:
    """延缓入学或休学 for a child who still refuses, only when a ground holds
    (``deferral_grounds``); the case stays open and persuasion goes on."""
    case = _locked(by, case, Action.DEFER)
    reason = _required(reason, field_name="reason", message="请填写延缓入学或休学的理由。")
    grounds = deferral_grounds(case, court_ruling=court_ruling)
    if not grounds:
        raise AppError(
            f"暂不能办理延缓入学或休学：须四步法全部完成（当前为“{case.get_step_display()}”），"
            f"或联合劝返不少于{settings.RETURNS_DEFER_JOINT_ACTIONS}次"
            f"（已{selectors.joint_count(case)}次），或法院已判决且监护人已履行义务。",
            field="court_ruling",
        )
    case.state, case.deferral_reason = CaseState.DEFERRED, reason
    case.deferred_on = timezone.localdate()
    _save(case, "state", "deferral_reason", "deferred_on")
    _log(
        by=by,
        case=case,
        action=Action.DEFER,
        state_before=CaseState.WORKING,
        note=f"{'、'.join(grounds)}。{reason}",
    )
    return case


@transaction.atomic
def case_close(*, by: User, case: ReturnCase, note: str) -> ReturnCase:
    """结案 after the follow-up: the child attends; the ledger's 销号 is proposed there."""
    case = _locked(by, case, Action.CLOSE)
    note = _required(note, field_name="note", message="请填写跟踪情况。")
    case.state, case.closed_at = CaseState.CLOSED, timezone.now()
    _save(case, "state", "closed_at")
    _log(by=by, case=case, action=Action.CLOSE, state_before=CaseState.RETURNED, note=note)
    return case


# -- follow-up watch ---------------------------------------------------------------------------


def absence_during_follow_up(*, student_ids: list[int], day: datetime.date) -> int:
    """Listener of ledger.hooks.unexcused_absence: a returned child marked 旷课 during the
    follow-up alerts the team and the township at once, once per case and day. Returns the
    number of cases alerted."""
    watched = ReturnCase.objects.filter(
        state=CaseState.RETURNED,
        entry__student_id__in=student_ids,
        returned_on__lt=day,
        follow_up_until__gte=day,
    ).select_related("entry__student__klass", "entry__school", "county", "township", "co_township")
    alerted = 0
    for case in watched:
        note = f"{day:%Y-%m-%d}旷课（复学跟踪期至{case.follow_up_until:%Y-%m-%d}）。"
        notify(
            selectors.workers(case),
            kind=NotificationKind.FOLLOW_UP_ALERT,
            title=f"{case_subject(case)}：复学跟踪期内旷课",
            body=f"该生于{case.returned_on:%Y-%m-%d}复学，{note}请立即联系监护人并上门了解情况。",
            link=case.get_absolute_url(),
            dedupe_key=f"returns:absence:{case.pk}:{day:%Y-%m-%d}",
        )
        if not case.events.filter(action=Action.ALERT, note=note).exists():
            _log(by=None, case=case, action=Action.ALERT, state_before=case.state, note=note)
            alerted += 1
    return alerted
