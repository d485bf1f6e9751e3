"""The county prints one kind of document for many cases at once (e.g. every open case of a
township): a background job (accounts.jobs) that prints each case through
``documents.generate`` — stored with its case and logged like any print — and hands back one
ZIP of the PDFs, with progress. One PDF is in memory at a time: each is streamed into the ZIP
on disk as soon as it is rendered, and every document reuses the process's fonts
(kongchuo.pdf)."""

import os
import tempfile
import zipfile

from django.core.files import File
from django.utils import timezone

from accounts import audit, jobs
from accounts.choices import JobKind
from accounts.models import Job, User
from accounts.permissions import require
from kongchuo.errors import AppError
from kongchuo.pdf import warm_up

from . import documents, selectors
from .models import ReturnCase
from .permissions import DOCUMENT_BATCH

# The list's filters (returns.selectors.cases) a batch takes.
FILTERS = ("mine", "county", "township", "step", "state", "overdue", "open_only", "query", "due")


def _filters(params: dict) -> dict:
    return {name: params[name] for name in FILTERS if params.get(name)}


def batch_cases(user: User, kind: str, filters: dict) -> list[int]:
    """The cases of ``user``'s list with ``filters`` whose state allows ``kind``, in the
    list's order."""
    cases = selectors.cases(user, **_filters(filters))
    return [case.pk for case in cases if documents.unavailable(case, kind) is None]


def batch_generate(*, by: User, kind: str, **filters) -> Job:
    """Queue the print of ``kind`` for every case of ``by``'s case list with ``filters`` (those
    of returns.selectors.cases, as the list page reads them; open cases unless ``open_only``
    is given) that the kind is available for."""
    require(by, DOCUMENT_BATCH)
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise TypeError(f"batch_generate: unknown filters {sorted(unknown)}")
    document_kind = documents.kind_of(kind)
    filters = _filters({"open_only": True, **filters})
    if not batch_cases(by, document_kind.key, filters):
        raise AppError(f"没有符合条件、可以生成{document_kind.title}的劝返案件。", field="kind")
    return jobs.job_start(
        by=by,
        kind=JobKind.RETURN_DOCUMENTS,
        params={"document": document_kind.key, "filters": filters},
    )


def _entry_name(index: int, document) -> str:
    # Case numbers, not children's names: the ZIP's listing is seen by whoever unpacks it.
    return f"{index:04d}-案件{document.case_id}-{document.title}.pdf"


@jobs.runner(JobKind.RETURN_DOCUMENTS, DOCUMENT_BATCH)
def run_batch(job: Job, user: User) -> None:
    document_kind = documents.kind_of(job.params["document"])
    # Read again as the user, now: cases may have moved on since the job was queued.
    ids = batch_cases(user, document_kind.key, job.params.get("filters", {}))
    total = len(ids)
    jobs.report_progress(job, 0, total)
    warm_up()
    handle, path = tempfile.mkstemp(suffix=".zip")
    os.close(handle)
    printed = refused = 0
    try:
        # PDFs are compressed already: stored as they are.
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            for done, pk in enumerate(ids, start=1):
                case = ReturnCase.objects.for_user(user).filter(pk=pk).first()
                try:
                    if case is None:
                        raise AppError("该劝返案件已不在您的管辖范围内。")
                    document = documents.generate(by=user, case=case, kind=document_kind.key)
                except AppError:
                    refused += 1  # taken on meanwhile, or no longer allowed
                else:
                    printed += 1
                    with (
                        document.file.open("rb") as pdf,
                        archive.open(_entry_name(printed, document), "w") as entry,
                    ):
                        entry.write(pdf.read())
                jobs.report_progress(job, done, total)
        audit.record_export(actor=user, what=f"{document_kind.title}（批量）", rows=printed)
        message = f"已生成 {printed} 份{document_kind.title}，每份已存入对应案件。"
        if refused:
            message += f"{refused} 个案件已不符合条件，未生成。"
        with open(path, "rb") as result:
            jobs.finish_with_file(
                job,
                content=File(result),
                filename=f"{document_kind.title}-{timezone.localdate():%Y%m%d}.zip",
                message=message,
            )
    finally:
        os.unlink(path)
