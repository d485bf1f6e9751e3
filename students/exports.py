"""The roster export (花名册导出): the same columns as the import — our template's, or the
national 学籍 system's layout (issue 18: a school hands its corrections back, and the file
imports again unchanged) — streamed to disk so memory stays flat at any size, ID numbers and phones masked unless the user asked for and may see
the full values (then the reveal is in the audit trail too). Every export is logged."""

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files import File
from django.utils import timezone

from accounts import audit, jobs
from accounts.choices import AuditAction, Capability, JobKind
from accounts.models import Job, User
from accounts.permissions import can
from kongchuo.errors import AppError
from kongchuo.masking import mask_id_number, mask_phone
from kongchuo.replicas import reading
from kongchuo.xlsx import write_workbook

from . import national, roster, selectors
from .models import Guardian

FILTERS = ("query", "school", "klass", "grade", "status", "key_group")


@dataclass(frozen=True)
class Layout:
    sheet_title: str
    headings: tuple[str, ...]
    row_values: Callable[[dict], list]
    id_at: int
    phone_at: int
    # A 居民身份证 holder's 学籍号 is G + the ID number: masked with it.
    student_number_at: int
    text_columns: frozenset[int]
    filename: str


LAYOUTS = {
    national.TEMPLATE: Layout(
        roster.SHEET_TITLE,
        roster.HEADINGS,
        roster.row_values,
        roster.HEADINGS.index("身份证号"),
        roster.HEADINGS.index("监护人电话"),
        roster.HEADINGS.index("学籍号"),
        frozenset(i for i, column in enumerate(roster.ROSTER_COLUMNS) if column.as_text),
        "学生花名册",
    ),
    # Every national cell is text, codes included: 01 keeps its zero, an ID its digits.
    national.NATIONAL: Layout(
        "学生信息",
        national.NATIONAL_HEADINGS,
        national.row_values,
        national.NATIONAL_HEADINGS.index("身份证件号"),
        national.NATIONAL_HEADINGS.index("成员1联系电话"),
        national.NATIONAL_HEADINGS.index("学籍号"),
        frozenset(range(len(national.NATIONAL_HEADINGS))),
        "学生信息（全国学籍系统格式）",
    ),
}
_SOURCES = {**roster.SOURCES, "id_type": "id_type"}


def roster_rows(
    user: User,
    filters: dict,
    *,
    reveal: bool = False,
    chunk: int = 5000,
    layout: str = national.TEMPLATE,
):
    """The roster rows of what ``user`` may see, filtered, in ``layout``; masked unless
    ``reveal``. Plain values, not model instances, and the guardians of each chunk in one
    query: at 200,000 rows building objects would cost more than writing the file."""
    students = selectors.students(
        user, **{k: v for k, v in filters.items() if k in FILTERS and v}
    ).values_list("id", *_SOURCES.values())
    attributes = list(_SOURCES)
    shape = LAYOUTS[layout]
    batch: list[tuple] = []
    for record in students.iterator(chunk_size=chunk):
        batch.append(record)
        if len(batch) == chunk:
            yield from _rows(batch, attributes, reveal, shape)
            batch = []
    yield from _rows(batch, attributes, reveal, shape)


def _rows(batch: list[tuple], attributes: list[str], reveal: bool, shape: Layout):
    first_guardian: dict[int, tuple] = {}
    guardians = (
        Guardian.objects.filter(student_id__in=[record[0] for record in batch])
        .order_by("student_id", "id")
        .values_list("student_id", "name", "relation", "phone")
    )
    for student_id, *guardian in guardians:
        first_guardian.setdefault(student_id, guardian)
    for record in batch:
        values = dict(zip(attributes, record[1:], strict=True))
        guardian = first_guardian.get(record[0])
        if guardian is not None:
            values.update(zip(roster.GUARDIAN_ATTRIBUTES, guardian, strict=True))
        row = shape.row_values(values)
        if not reveal:
            row[shape.id_at] = mask_id_number(row[shape.id_at] or "")
            row[shape.phone_at] = mask_phone(row[shape.phone_at] or "")
            row[shape.student_number_at] = mask_id_number(row[shape.student_number_at] or "")
        yield row


def write_roster(
    path: str,
    user: User,
    filters: dict,
    *,
    reveal: bool = False,
    progress=None,
    layout: str = national.TEMPLATE,
) -> int:
    """Write the roster to ``path`` in ``layout`` (national.TEMPLATE or national.NATIONAL);
    returns the row count. ``progress(done)`` every 1000 rows."""
    if reveal and not can(user, Capability.REVEAL_IDENTITY):
        raise AppError("当前账号无权导出完整身份证号。", field="reveal")
    shape = LAYOUTS[layout]
    rows = roster_rows(user, filters, reveal=reveal, layout=layout)
    if progress is not None:
        rows = _counting(rows, progress)
    return write_workbook(
        path, shape.sheet_title, shape.headings, rows, text_columns=shape.text_columns
    )


def _counting(rows, progress):
    for done, row in enumerate(rows, start=1):
        if done % 1000 == 0:
            progress(done)
        yield row


@jobs.runner(JobKind.ROSTER_EXPORT, Capability.MANAGE_STUDENTS)
@reading()
def run_roster_export(job: Job, user: User) -> None:
    filters = job.params.get("filters", {})
    reveal = bool(job.params.get("reveal"))
    layout = job.params.get("layout")
    layout = layout if layout in LAYOUTS else national.TEMPLATE
    total = selectors.students(
        user, **{k: v for k, v in filters.items() if k in FILTERS and v}
    ).count()
    jobs.report_progress(job, 0, total)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        count = write_roster(
            path,
            user,
            filters,
            reveal=reveal,
            progress=lambda done: jobs.report_progress(job, done, total),
            layout=layout,
        )
        jobs.report_progress(job, count, total)
        what = "学生花名册（含完整身份证号）" if reveal else "学生花名册"
        audit.record_export(actor=user, what=what, rows=count)
        if reveal:
            audit.record(
                actor=user,
                action=AuditAction.REVEAL,
                detail=f"导出含完整身份证号的花名册，共{count}行",
            )
        with open(path, "rb") as result:
            jobs.finish_with_file(
                job,
                content=File(result),
                filename=f"{LAYOUTS[layout].filename}-{timezone.localdate():%Y%m%d}.xlsx",
                message=f"已导出 {count} 名学生。",
            )
    finally:
        os.unlink(path)
