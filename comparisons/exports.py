"""The mismatch export: the filtered mismatch list as XLSX. ID numbers are always masked (the
list's follow-ups need no full number), strings are written as text, never as formulas
(kongchuo.xlsx), and every export is in the audit trail. It is a background job
(accounts.jobs, issue 15 §6): the page stores the list's filters, and the runner reads the
mismatches again as the requester when it runs."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts import audit, jobs
from accounts.choices import JobKind
from accounts.models import Job, User
from kongchuo.replicas import reading
from kongchuo.xlsx import workbook_bytes

from . import selectors
from .models import Mismatch
from .selectors import shown_details

TITLE = "比对不一致"
HEADINGS = [
    "序号", "不一致类型", "姓名", "身份证号", "出生日期", "责任乡镇", "责任学校", "匹配方式",
    "与上次相比", "详情", "处理情况", "处理人", "处理时间", "处理说明", "比对时间",
]  # fmt: skip
_TEXT_COLUMNS = frozenset({HEADINGS.index("身份证号")})
# selectors.mismatches' filters a job may carry (comparisons.views.list_filters gives them).
FILTERS = ("query", "kind", "county", "township", "school", "strength", "handled", "change", "run")


def _row(index: int, mismatch: Mismatch) -> list:
    handled = mismatch.handled
    township = mismatch.township or (mismatch.school.township if mismatch.school else None)
    return [
        index,
        mismatch.get_kind_display(),
        mismatch.name,
        mismatch.masked_id_number,
        mismatch.birth_date,
        township.name if township else "",
        mismatch.school.name if mismatch.school else "",
        mismatch.get_strength_display(),
        mismatch.get_change_display(),
        "；".join(f"{label}：{value}" for label, value in shown_details(mismatch)),
        handled.get_disposition_display() if handled else "待处理",
        (handled.by.full_name or handled.by.username) if handled else "",
        timezone.localtime(handled.at).strftime("%Y-%m-%d %H:%M") if handled else "",
        handled.note if handled else "",
        timezone.localtime(mismatch.run.created_at).strftime("%Y-%m-%d %H:%M"),
    ]


@reading()
def export_mismatches(
    *, by, mismatches: QuerySet[Mismatch], job: Job | None = None
) -> tuple[bytes, int]:
    """``mismatches`` (from selectors.mismatches: scoped, filtered) as an XLSX workbook,
    logged as an export; ``job``'s progress reported as it goes."""
    rows = (
        _row(index, mismatch)
        for index, mismatch in enumerate(mismatches.iterator(chunk_size=2000), start=1)
    )
    if job is not None:
        rows = jobs.with_progress(job, rows, mismatches.count())
    content, count = workbook_bytes(TITLE, HEADINGS, rows, text_columns=_TEXT_COLUMNS)
    audit.record_export(actor=by, what=TITLE, rows=count)
    return content, count


def job_filters(filters: dict) -> dict:
    """The filters a job keeps: only selectors.mismatches' own, in JSON."""
    return {name: filters[name] for name in FILTERS if name in filters}


@jobs.runner(JobKind.MISMATCH_EXPORT, jobs.SIGNED_IN)
def run_mismatch_export(job: Job, user: User) -> None:
    """The list the requester had filtered, read again as them (their area now)."""
    filters = job_filters(job.params.get("filters", {}))
    content, count = export_mismatches(
        by=user, mismatches=selectors.mismatches(user, **filters), job=job
    )
    jobs.finish_with_file(
        job,
        content=content,
        filename=f"comparisons-{timezone.localdate():%Y%m%d}.xlsx",
        message=f"已导出 {count} 条比对不一致。",
    )
