"""The 月报表's services (DOMAIN.md §8, 002; issue 14): a school opens the period's report,
whose draft is filled from the ledger at the report date; the school completes the header
and the 控辍保学措施 column; only the principal signs — of the school, or of its 中心校 for an
attached 村小 or 教学点 (jurisdiction gives a 中心校's accounts its attached schools) — and the
signed version never changes: a correction is a new version with its reason, filled again
from the ledger with the measures carried over, then signed again. Every write is audited.
Pages, the API and the county workbook all call these."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import AuditAction, Capability
from accounts.models import School, User, grade_label
from accounts.permissions import can, require
from kongchuo.errors import AppError
from kongchuo.masking import mask_id_number
from ledger.choices import Reason
from students.choices import KeyGroup

from . import selectors
from .models import MonthlyReport, ReportRow, ReportVersion
from .periods import ReportPeriod, is_future, period_of_report, period_of_school
from .permissions import MONTHLY_FILL, MONTHLY_SIGN

# A form row's columns after 序号, in the form's order (DOMAIN.md §8).
ROW_FIELDS = (
    "school_name",
    "name",
    "gender",
    "grade",
    "class_name",
    "id_number",
    "reason",
    "poverty_registered",
    "measures",
)
# The longest 控辍保学措施 text a row takes (one cell of the printed form).
MEASURES_LENGTH = 500
FILLED_BY_LENGTH = ReportVersion._meta.get_field("filled_by").max_length
PHONE_LENGTH = ReportVersion._meta.get_field("phone").max_length


def _in_area(by: User, record) -> None:
    if not jurisdiction.contains(by, record):
        raise AppError("该学校不在您的管辖范围内。")


def report_date(period: ReportPeriod, today: datetime.date) -> datetime.date:
    """The day whose ledger fills the form: today, or the period's last day once it is over."""
    return min(today, period.last_day)


def measures_from_actions(actions) -> str:
    """The 控辍保学措施 text of an entry's 劝返 actions: one line per action, oldest first,
    cut to the cell's length (the newest lines are the ones kept)."""
    lines = [f"{a.date:%-m月%-d日}{a.get_method_display()}：{a.result.strip()}" for a in actions]
    text = "\n".join(lines)
    while len(text) > MEASURES_LENGTH and len(lines) > 1:
        lines.pop(0)
        text = "\n".join(lines)
    return text[:MEASURES_LENGTH]


def row_values(entry, measures: str) -> dict:
    """One form row of a ledger entry (the columns of §8 after 序号)."""
    klass = entry.student.klass if entry.student_id and entry.student.klass_id else None
    return {
        "entry": entry,
        "school_name": entry.school.name,
        "name": entry.name,
        "gender": entry.get_gender_display(),
        "grade": grade_label(entry.grade) if entry.grade else "",
        "class_name": klass.name if klass else "",
        "id_number": entry.id_number,
        "reason": Reason(entry.reason).label,
        "poverty_registered": KeyGroup.POVERTY_REGISTERED in entry.key_groups,
        "measures": measures[:MEASURES_LENGTH],
    }


def ledger_rows(school_ids, day: datetime.date, carried: dict[int, str] | None = None):
    """The form rows of the schools' ledgers on ``day``, in order: the entry's measures are
    ``carried`` ones (a refreshed or corrected version's), else its 劝返 actions', else the
    entry's own ``measures``."""
    entries = list(selectors.form_entries(school_ids, day))
    actions = selectors.case_actions([entry.pk for entry in entries], day)
    carried = carried or {}
    for entry in entries:
        if entry.pk in carried:
            measures = carried[entry.pk]
        elif actions.get(entry.pk):
            measures = measures_from_actions(actions[entry.pk])
        else:
            measures = entry.measures
        yield row_values(entry, measures)


def _fill(version: ReportVersion, carried: dict[int, str]) -> None:
    version.rows.all().delete()
    ReportRow.objects.bulk_create(
        ReportRow(version=version, position=position, **values)
        for position, values in enumerate(
            ledger_rows([version.report.school_id], version.report_date, carried), start=1
        )
    )


def _carried(version: ReportVersion) -> dict[int, str]:
    return dict(version.rows.values_list("entry_id", "measures"))


def _require_fill(by: User, report: MonthlyReport) -> None:
    require(by, MONTHLY_FILL)
    _in_area(by, report.school)


def draft_of(report: MonthlyReport) -> ReportVersion | None:
    """The report's unsigned version, if any (there is at most one: the newest)."""
    latest = report.versions.order_by("-number").first()
    return latest if latest is not None and not latest.is_signed else None


def editable_draft(report: MonthlyReport) -> ReportVersion:
    """The draft to edit, refresh or sign; AppError once the report is signed."""
    version = draft_of(report)
    if version is None:
        raise AppError(
            "该月报表已由校长签发，不能修改；如需更改，请填写更正原因生成新版本。",
            field="correction_reason",
        )
    return version


@transaction.atomic
def report_open(
    *, by: User, school: School, year: int, month: int, today: datetime.date | None = None
) -> MonthlyReport:
    """Open (or find) the school's report for the period ``month`` of ``year`` belongs to
    under its province's cadence; a new report's first version is a draft filled from the
    ledger. A period that has not begun is refused."""
    today = today or timezone.localdate()
    require(by, MONTHLY_FILL)
    _in_area(by, school)
    try:
        period = period_of_school(school, year, month)
    except ValueError:
        raise AppError("月份应为1至12。", field="month") from None
    if is_future(period, today):
        raise AppError(f"{period.label}的月报表尚未到填报时间，不能提前填报。", field="month")
    report, created = MonthlyReport.objects.get_or_create(
        school=school,
        year=period.year,
        month=period.month,
        defaults={"months": period.months, "due_on": period.due_on},
    )
    if created:
        version = ReportVersion.objects.create(
            report=report, number=1, report_date=report_date(period, today), created_by=by
        )
        _fill(version, {})
        audit.record(
            actor=by,
            action=AuditAction.CREATE,
            obj=report,
            detail=f"填报{period.label}辍学月报表，{version.rows.count()}人",
        )
    return report


def _locked_draft(version: ReportVersion) -> ReportVersion:
    locked = ReportVersion.objects.select_for_update().select_related("report__school")
    version = locked.get(pk=version.pk)
    if version.is_signed:
        raise AppError(
            "该版本已由校长签发，不能修改；如需更改，请填写更正原因生成新版本。",
            field="correction_reason",
        )
    return version


@transaction.atomic
def draft_refresh(
    *, by: User, version: ReportVersion, today: datetime.date | None = None
) -> ReportVersion:
    """Fill the draft again from the ledger as it stands now (within the period), keeping
    the measures already written for children still on it."""
    version = _locked_draft(version)
    _require_fill(by, version.report)
    carried = _carried(version)
    version.report_date = report_date(
        period_of_report(version.report), today or timezone.localdate()
    )
    version.save(update_fields=["report_date"])
    _fill(version, carried)
    audit.record(actor=by, action=AuditAction.UPDATE, obj=version, detail="按台账重新生成名单")
    return version


@dataclass(frozen=True)
class DraftChanges:
    filled_by: str
    phone: str
    measures: dict[int, str]  # row id → text


@transaction.atomic
def draft_update(*, by: User, version: ReportVersion, changes: DraftChanges) -> ReportVersion:
    """The header's 填表人 and 联系电话, and the rows' 控辍保学措施. All or nothing: a text
    over its length names its field (and row) and nothing is saved."""
    version = _locked_draft(version)
    _require_fill(by, version.report)
    rows = {row.pk: row for row in version.rows.all()}
    errors = {}
    if len(changes.filled_by) > FILLED_BY_LENGTH:
        errors["filled_by"] = f"填表人不能超过{FILLED_BY_LENGTH}个字。"
    if len(changes.phone) > PHONE_LENGTH:
        errors["phone"] = f"联系电话不能超过{PHONE_LENGTH}个字符。"
    for row_id, text in changes.measures.items():
        if row_id not in rows:
            errors[f"measures_{row_id}"] = "该行不在此版本的月报表中。"
        elif len(text) > MEASURES_LENGTH:
            row = rows[row_id]
            errors[f"measures_{row_id}"] = (
                f"第{row.position}行（{row.name}）的控辍保学措施不能超过{MEASURES_LENGTH}个字，"
                f"现有{len(text)}个字。"
            )
    if errors:
        raise AppError.for_fields(errors)
    before = audit.snapshot(version)
    version.filled_by, version.phone = changes.filled_by.strip(), changes.phone.strip()
    version.save(update_fields=["filled_by", "phone"])
    changed = []
    for row_id, text in changes.measures.items():
        row = rows[row_id]
        if row.measures != text.strip():
            row.measures = text.strip()
            changed.append(row)
    ReportRow.objects.bulk_update(changed, ["measures"])
    audit.record_change(
        actor=by,
        instance=version,
        before=before,
        detail=f"修改控辍保学措施{len(changed)}行" if changed else "",
    )
    return version


@transaction.atomic
def version_sign(
    *, by: User, version: ReportVersion, now: datetime.datetime | None = None
) -> ReportVersion:
    """The principal's electronic confirmation (name and time). On or after the 20th of the
    period's last month it is marked late."""
    require(by, MONTHLY_SIGN)
    version = _locked_draft(version)
    _in_area(by, version.report.school)
    if not version.filled_by:
        raise AppError("请先填写填表人再签发。", field="filled_by")
    now = now or timezone.now()
    version.signed_by, version.signed_at = by, now
    version.late = period_of_report(version.report).is_late(timezone.localdate(now))
    version.save(update_fields=["signed_by", "signed_at", "late"])
    audit.record(
        actor=by,
        action=AuditAction.UPDATE,
        obj=version,
        detail=f"校长{by.full_name or by.username}电子签发{'（逾期报送）' if version.late else ''}",
    )
    return version


@transaction.atomic
def report_correct(
    *, by: User, report: MonthlyReport, reason: str, today: datetime.date | None = None
) -> ReportVersion:
    """A correction of a signed report: a new draft version with its reason, filled again
    from the ledger, the latest version's header and measures carried over."""
    _require_fill(by, report)
    reason = reason.strip()
    if not reason:
        raise AppError("更正已签发的月报表必须填写更正原因。", field="correction_reason")
    latest = (
        ReportVersion.objects.select_for_update().filter(report=report).order_by("-number").first()
    )
    if not latest.is_signed:
        raise AppError(
            f"第{latest.number}版尚未签发，请直接修改该版本，无需更正。",
            field="correction_reason",
        )
    version = ReportVersion.objects.create(
        report=report,
        number=latest.number + 1,
        report_date=report_date(period_of_report(report), today or timezone.localdate()),
        filled_by=latest.filled_by,
        phone=latest.phone,
        correction_reason=reason,
        created_by=by,
    )
    _fill(version, _carried(latest))
    audit.record(actor=by, action=AuditAction.CREATE, obj=version, detail=f"更正月报表：{reason}")
    return version


def may_reveal(user: User) -> bool:
    return can(user, Capability.REVEAL_IDENTITY)


def reveal_ids(*, by: User, version: ReportVersion | MonthlyReport, asked: bool) -> bool:
    """Whether the form shows full ID numbers to ``by``: only when asked for and allowed,
    written to the audit trail — for one version, or (``version`` a report) for all of its
    versions at once."""
    if not asked:
        return False
    if not may_reveal(by):
        raise AppError("当前账号无权查看完整身份证号。", field="reveal")
    whole = isinstance(version, MonthlyReport)
    detail = "查看月报表全部版本的完整身份证号" if whole else "查看月报表完整身份证号"
    audit.record(actor=by, action=AuditAction.REVEAL, obj=version, detail=detail)
    return True


def shown_id(id_number: str, reveal: bool) -> str:
    return id_number if reveal else mask_id_number(id_number)
