"""The mismatch export: the filtered mismatch list as XLSX. ID numbers are always masked (the
list's follow-ups need no full number), strings are written as text, never as formulas
(kongchuo.xlsx), and every export is in the audit trail."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts import audit
from kongchuo.xlsx import workbook_bytes

from .models import Mismatch
from .selectors import shown_details

TITLE = "比对不一致"
HEADINGS = [
    "序号", "不一致类型", "姓名", "身份证号", "出生日期", "责任乡镇", "责任学校", "匹配方式",
    "与上次相比", "详情", "处理情况", "处理人", "处理时间", "处理说明", "比对时间",
]  # fmt: skip
_TEXT_COLUMNS = frozenset({HEADINGS.index("身份证号")})


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


def export_mismatches(*, by, mismatches: QuerySet[Mismatch]) -> tuple[bytes, int]:
    """``mismatches`` (from selectors.mismatches: scoped, filtered) as an XLSX workbook,
    logged as an export."""
    rows = (
        _row(index, mismatch)
        for index, mismatch in enumerate(mismatches.iterator(chunk_size=2000), start=1)
    )
    content, count = workbook_bytes(TITLE, HEADINGS, rows, text_columns=_TEXT_COLUMNS)
    audit.record_export(actor=by, what=TITLE, rows=count)
    return content, count
