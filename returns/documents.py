"""The printable documents of a 劝返 case (issue 12 item 7; the forms of 002 and the 责令改正 of 003).

One function per document kind builds the template's context from a case; the templates under
``templates/returns/documents/`` document that context and take nothing else, so they can be
rendered (and tested) from plain values. ``render_document`` turns a case into PDF bytes with
the SHA-256 and the template version; ``generate`` is the one write path of a printed document:
it checks who prints and whether the case allows the kind now (``available``), stores the PDF
with the case (CaseDocument: its hash and template version), and puts the print on the case's
timeline and the audit trail. ``download`` hands a stored document back, logged.

Personal identifiers are masked as everywhere else an export leaves the system (DOMAIN.md §10):
the ID number and phone numbers unless the caller passes ``reveal=True``.
"""

import datetime
import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import AuditAction, Capability
from accounts.divisions import full_name
from accounts.models import User
from accounts.permissions import require
from kongchuo.errors import AppError
from kongchuo.masking import mask_id_number, mask_phone
from kongchuo.pdf import render_pdf

from .choices import OPEN_CASE_STATES, Action, CaseState, Department, Step
from .choices import DocumentType as Kind
from .models import CaseDocument, CaseEvent, ReturnCase
from .permissions import DOCUMENT


@dataclass(frozen=True)
class DocumentKind:
    key: str
    template: str
    # Bump when a template's wording or layout changes: stored documents keep the version
    # they were printed with.
    version: str

    @property
    def title(self) -> str:
        return Kind(self.key).label


KINDS = {
    kind.key: kind
    for kind in (
        DocumentKind(Kind.SURVEY, "returns/documents/survey.html", "1"),
        DocumentKind(Kind.RETURN_NOTICE, "returns/documents/return_notice.html", "1"),
        DocumentKind(Kind.CORRECTION_ORDER, "returns/documents/correction_order.html", "1"),
        DocumentKind(Kind.ACTION_RECORD, "returns/documents/action_record.html", "1"),
    )
}
# The notice asks the guardian to bring the child back: pointless once the child is back.
_NOT_RETURNED = OPEN_CASE_STATES - {CaseState.RETURNED}


@dataclass(frozen=True)
class RenderedDocument:
    kind: DocumentKind
    pdf: bytes
    sha256: str

    @property
    def template_version(self) -> str:
        return self.kind.version


_DEPARTMENTS = dict(Department.choices)


def _person(user) -> str:
    return user.full_name or user.username


def _issuer(case: ReturnCase) -> str:
    # The township government acts (003); a case the county holds is the county's.
    region = case.township or case.county
    return f"{region.name}人民政府"


def _school(case: ReturnCase):
    return case.return_school or case.school or case.entry.school


def _guardians(case: ReturnCase) -> list:
    student = case.entry.student
    return list(student.guardians.all()) if student is not None else []


def _notes(case: ReturnCase, kind: DocumentKind, today: datetime.date) -> dict:
    return {
        "header_note": f"劝返案件编号 {case.pk}",
        "footer_note": f"{kind.title} · 模板第{kind.version}版 · 生成于{today:%Y-%m-%d}",
    }


def survey_context(case: ReturnCase, *, reveal: bool = False, filled_by: str = "") -> dict:
    """辍学学生基本情况调查表: the ledger entry's survey fields and the child's record."""
    entry = case.entry
    student = entry.student
    phone = (lambda value: value) if reveal else mask_phone
    school = entry.school
    return {
        "reporting_unit": school.name if school else _issuer(case),
        "filled_on": timezone.localdate(),
        "filled_by": filled_by,
        "student": {
            "name": entry.name,
            "gender": entry.get_gender_display(),
            "ethnicity": student.ethnicity if student else "",
            "birth_date": entry.birth_date,
            "id_number": entry.id_number if reveal else mask_id_number(entry.id_number),
            "student_number": (student.student_number or "") if student else "",
            "hukou": full_name(entry.hukou_region) if entry.hukou_region_id else "",
            "address": student.address if student else "",
        },
        "school_name": school.name if school else "",
        "grade": entry.grade_label,
        "class_name": student.klass.name if student and student.klass_id else "",
        "dropout_date": entry.found_on,
        "record_check": entry.get_record_check_display(),
        "guardians": [
            {"name": g.name, "relation": g.relation, "phone": phone(g.phone), "work": ""}
            for g in _guardians(case)
        ],
        "parent_contact": entry.parent_contact,
        "family_situation": entry.family_situation,
        "reason": entry.get_reason_display(),
        "other_reasons": entry.other_reason_labels,
        "whereabouts": entry.get_whereabouts_display(),
        "person_status": entry.person_status,
        "key_groups": entry.key_group_labels,
        "responsible_township": _issuer(case),
        "department_opinion": entry.department_opinion,
        "measures": entry.measures,
    }


def return_notice_context(
    case: ReturnCase,
    *,
    return_by: datetime.date | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    document_number: str = "",
) -> dict:
    """辍学劝返复学通知书: to the guardian, the date to bring the child back to school (a blank
    line to fill in by hand without ``return_by``)."""
    entry = case.entry
    school = _school(case)
    guardians = _guardians(case)
    return {
        "document_number": document_number,
        "guardian_name": guardians[0].name if guardians else "",
        "student_name": entry.name,
        "school_name": school.name if school else "",
        "grade": case.return_grade_label or entry.grade_label,
        "dropout_date": entry.found_on,
        "return_by": return_by,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
        "issuer": _issuer(case),
        "issued_on": timezone.localdate(),
    }


def correction_order_context(
    case: ReturnCase,
    *,
    contact_name: str = "",
    contact_phone: str = "",
    document_number: str = "",
) -> dict:
    """责令限期改正通知书: the legal order with the case's 责令改正 deadline."""
    if case.step_deadline is None:
        raise AppError(
            "责令限期改正通知书需要改正期限，请先在责令改正步骤中填写期限。", field="step_deadline"
        )
    entry = case.entry
    school = _school(case)
    guardians = _guardians(case)
    return {
        "document_number": document_number,
        "guardian_name": guardians[0].name if guardians else "",
        "student_name": entry.name,
        "school_name": school.name if school else "",
        "grade": entry.grade_label,
        "dropout_date": entry.found_on,
        "persuasion_count": case.actions.count(),
        "deadline": case.step_deadline,
        "issuer": _issuer(case),
        "issued_on": timezone.localdate(),
        "contact_name": contact_name,
        "contact_phone": contact_phone,
    }


def _outcome(case: ReturnCase) -> str:
    if case.state in (CaseState.RETURNED, CaseState.CLOSED) and case.returned_on:
        where = case.return_school.name if case.return_school_id else ""
        return (
            f"{case.returned_on:%Y-%m-%d} 复学：{case.get_placement_display()}，"
            f"{where}{case.return_grade_label}"
        )
    if case.state == CaseState.DEFERRED:
        return f"延缓入学或休学（继续劝返）：{case.deferral_reason}"
    return ""


def action_record_context(case: ReturnCase, *, reveal: bool = False, filled_by: str = "") -> dict:
    """劝返情况记录表: every action of the case, oldest first, with the team and the outcome."""
    entry = case.entry
    school = entry.school
    guardians = _guardians(case)
    actions = case.actions.order_by("date", "id").prefetch_related("participants")
    rows = []
    for action in actions:
        names = [_person(user) for user in action.participants.all()]
        if action.participant_names:
            names.append(action.participant_names)
        rows.append(
            {
                "date": action.date,
                "method": action.get_method_display(),
                "departments": [_DEPARTMENTS.get(d, d) for d in action.departments],
                "participants": "、".join(names),
                "result": action.result,
                "step": action.get_step_display(),
            }
        )
    guardian_phone = guardians[0].phone if guardians else ""
    return {
        "student_name": entry.name,
        "gender": entry.get_gender_display(),
        "birth_date": entry.birth_date,
        "school_name": school.name if school else "",
        "grade": entry.grade_label,
        "guardian_name": guardians[0].name if guardians else "",
        "guardian_phone": guardian_phone if reveal else mask_phone(guardian_phone),
        "responsible_township": _issuer(case),
        "team": [
            {"name": _person(member.user), "duty": member.get_duty_display()}
            for member in case.members.select_related("user")
        ],
        "actions": rows,
        "current_step": case.get_step_display(),
        "outcome": _outcome(case),
        "filled_by": filled_by,
        "filled_on": timezone.localdate(),
    }


BUILDERS = {
    Kind.SURVEY: survey_context,
    Kind.RETURN_NOTICE: return_notice_context,
    Kind.CORRECTION_ORDER: correction_order_context,
    Kind.ACTION_RECORD: action_record_context,
}


def kind_of(kind: str) -> DocumentKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise AppError("不支持的文书类型。", field="kind") from None


def render_document(kind: str, case: ReturnCase, **options) -> RenderedDocument:
    """The PDF of document ``kind`` for ``case``; ``options`` go to that kind's builder."""
    document_kind = kind_of(kind)
    context = BUILDERS[document_kind.key](case, **options)
    context.update(_notes(case, document_kind, timezone.localdate()))
    pdf = render_pdf(document_kind.template, context)
    return RenderedDocument(document_kind, pdf, hashlib.sha256(pdf).hexdigest())


# -- stored documents --------------------------------------------------------------------------


def unavailable(case: ReturnCase, kind: str) -> str | None:
    """Why the case's state does not allow document ``kind`` now, or None: the 复学通知书 while
    the child is still out of school; the 责令限期改正通知书 from step 责令改正 on, with its
    deadline; the survey and the record at any time."""
    if kind == Kind.RETURN_NOTICE and case.state not in _NOT_RETURNED:
        return f"劝返案件状态为“{case.get_state_display()}”，不再生成辍学劝返复学通知书。"
    if kind == Kind.CORRECTION_ORDER and (case.step < Step.ORDER or case.step_deadline is None):
        return "责令限期改正通知书在案件进入“责令改正”步骤并填写改正期限后才能生成。"
    return None


def available(case: ReturnCase) -> list[DocumentKind]:
    """The kinds the case's state allows now, in the order of the forms."""
    return [kind for kind in KINDS.values() if unavailable(case, kind.key) is None]


def stored(case: ReturnCase) -> QuerySet[CaseDocument]:
    """The case's printed documents, newest first (the case page, the API)."""
    return case.documents.select_related("generated_by").order_by("-generated_at", "-id")


def _options(kind: str, by: User, *, reveal: bool, return_by: datetime.date | None) -> dict:
    """The builder options of a print by ``by``: who filled in the form, or whom the guardian
    contacts about a notice."""
    if kind in (Kind.SURVEY, Kind.ACTION_RECORD):
        return {"reveal": reveal, "filled_by": _person(by)}
    options = {"contact_name": _person(by), "contact_phone": by.phone}
    if kind == Kind.RETURN_NOTICE:
        options["return_by"] = return_by
    return options


def _for_printing(case: ReturnCase) -> ReturnCase:
    return ReturnCase.objects.select_related(
        "entry__student__klass",
        "entry__school",
        "entry__hukou_region",
        "county",
        "township",
        "school",
        "return_school",
    ).get(pk=case.pk)


@transaction.atomic
def generate(
    *,
    by: User,
    case: ReturnCase,
    kind: str,
    reveal: bool = False,
    return_by: datetime.date | None = None,
) -> CaseDocument:
    """Print document ``kind`` of ``case`` and keep it with the case (issue 12 item 7): by
    those who work the case or the county (``returns.document``), when the case allows the
    kind (``unavailable``); full identifiers only with 查看完整身份证号 (``reveal``).
    ``return_by``: the 复学通知书's date to bring the child back (blank without it)."""
    document_kind = kind_of(kind)
    if not jurisdiction.contains(by, case):
        raise AppError("该劝返案件不在您的管辖范围内。")
    case = _for_printing(case)
    require(by, DOCUMENT, case)
    if reveal:
        require(by, Capability.REVEAL_IDENTITY)
    reason = unavailable(case, document_kind.key)
    if reason is not None:
        raise AppError(reason, field="kind")
    rendered = render_document(
        document_kind.key,
        case,
        **_options(document_kind.key, by, reveal=reveal, return_by=return_by),
    )
    document = CaseDocument.objects.create(
        case=case,
        kind=document_kind.key,
        title=document_kind.title,
        # The case and the hash name the file; the child's name never reaches the disk.
        file=ContentFile(
            rendered.pdf, name=f"case{case.pk}-{document_kind.key}-{rendered.sha256[:16]}.pdf"
        ),
        sha256=rendered.sha256,
        template_version=rendered.template_version,
        size=len(rendered.pdf),
        generated_by=by,
    )
    note = f"{document_kind.title}（模板第{document_kind.version}版）"
    CaseEvent.objects.create(
        case=case,
        action=Action.DOCUMENT,
        state_before=case.state,
        state_after=case.state,
        step_before=case.step,
        step_after=case.step,
        note=note,
        actor=by,
    )
    audit.record(
        actor=by,
        action=AuditAction.CREATE,
        obj=document,
        detail=f"生成{note}，SHA-256 {rendered.sha256}",
    )
    if reveal:
        audit.record(
            actor=by, action=AuditAction.REVEAL, obj=document, detail=f"{note}含完整身份证号"
        )
    return document


def download_name(document: CaseDocument) -> str:
    return f"{document.title}-案件{document.case_id}-{document.generated_at:%Y%m%d%H%M}.pdf"


def download(*, by: User, document: CaseDocument) -> tuple[str, bytes]:
    """The stored PDF of ``document`` and the name to save it as, for anyone who sees the
    case; logged. A file that no longer matches its recorded hash is refused."""
    if not jurisdiction.contains(by, document):
        raise AppError("该文书不在您的管辖范围内。")
    try:
        with document.file.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise AppError("文书文件已丢失，请重新生成或联系系统管理员。") from None
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise AppError("文书文件与生成时的校验值不一致，已拒绝下载，请联系系统管理员。")
    audit.record(actor=by, action=AuditAction.EXPORT, obj=document, detail=f"下载{document.title}")
    return download_name(document), data
