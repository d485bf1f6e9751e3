"""The ledger export: the filtered list as XLSX, ID numbers masked unless the user asked for
and may see them (then the reveal is in the audit trail too). Every export is logged. It is
a background job (accounts.jobs, issue 15 §6): the page stores the list's filters, and the
runner reads the entries again as the requester when it runs."""

from django.utils import timezone

from accounts import audit, jobs
from accounts.choices import AuditAction, Capability, JobKind
from accounts.models import Job, User
from accounts.permissions import can
from kongchuo.errors import AppError
from kongchuo.replicas import reading
from kongchuo.xlsx import workbook_bytes
from students.calendar import TermCalendars, term_calendars

from . import selectors, terms
from .models import LedgerEntry

HEADINGS = [
    "序号", "姓名", "性别", "出生日期", "身份证号", "学校", "年级", "责任乡镇", "类别", "来源",
    "状态", "学籍核查结果", "主要辍学原因", "其他原因", "人员现状", "重点群体", "控辍保学措施",
    "发现日期", "最近分类复核日期", "已分类学期", "是否逾期未分类", "是否反弹", "销号原因",
    "销号时间",
]  # fmt: skip
_TEXT_COLUMNS = frozenset({HEADINGS.index("身份证号")})
# selectors.entries' filters a job may carry (ledger.views.list_filters gives them).
FILTERS = (
    "query", "county", "township", "school", "grade", "kind", "state", "reason", "key_group",
    "term", "overdue", "rebound", "open_only",
)  # fmt: skip


def _row(index: int, entry: LedgerEntry, reveal: bool, calendars: TermCalendars) -> list:
    reviewed_term = terms.reviewed_term(calendars, entry)
    return [
        index,
        entry.name,
        entry.get_gender_display(),
        entry.birth_date,
        entry.id_number if reveal else entry.masked_id_number,
        entry.school.name if entry.school else "",
        entry.grade_label,
        entry.township.name,
        entry.get_kind_display(),
        entry.get_source_display(),
        entry.get_state_display(),
        entry.get_record_check_display(),
        entry.get_reason_display(),
        "、".join(entry.other_reason_labels),
        entry.get_whereabouts_display(),
        "、".join(entry.key_group_labels),
        entry.measures,
        entry.found_on,
        entry.reviewed_on,
        reviewed_term.name if reviewed_term is not None else "",
        entry.is_overdue,
        entry.previous_id is not None,
        entry.get_closure_reason_display(),
        entry.closed_at.date() if entry.closed_at else None,
    ]


@reading()
def export_entries(
    *, by, entries, reveal: bool = False, job: Job | None = None
) -> tuple[bytes, int]:
    """``entries`` (from selectors.entries: scoped, filtered, with ``is_overdue``) as an XLSX
    workbook, logged; ``job``'s progress reported as the rows are written."""
    if reveal and not can(by, Capability.REVEAL_IDENTITY):
        raise AppError("当前账号无权导出完整身份证号。")
    calendars = term_calendars()
    rows = (
        _row(index, entry, reveal, calendars)
        for index, entry in enumerate(entries.iterator(chunk_size=2000), start=1)
    )
    if job is not None:
        rows = jobs.with_progress(job, rows, entries.count())
    content, count = workbook_bytes("台账", HEADINGS, rows, text_columns=_TEXT_COLUMNS)
    audit.record_export(
        actor=by, what="控辍保学台账" + ("（含完整身份证号）" if reveal else ""), rows=count
    )
    if reveal:
        audit.record(actor=by, action=AuditAction.REVEAL, detail=f"导出台账完整身份证号{count}条")
    return content, count


def job_filters(filters: dict) -> dict:
    """The filters a job keeps: only selectors.entries' own, in JSON."""
    return {name: filters[name] for name in FILTERS if name in filters}


@jobs.runner(JobKind.LEDGER_EXPORT, jobs.SIGNED_IN)
def run_ledger_export(job: Job, user: User) -> None:
    """The list the requester had filtered, read again as them (their area now)."""
    filters = job_filters(job.params.get("filters", {}))
    entries = selectors.entries(user, **filters)
    content, count = export_entries(
        by=user, entries=entries, reveal=bool(job.params.get("reveal")), job=job
    )
    jobs.finish_with_file(
        job,
        content=content,
        filename=f"ledger-{timezone.localdate():%Y%m%d}.xlsx",
        message=f"已导出 {count} 条台账记录。",
    )
