"""Background jobs a user asks for. ``job_start`` queues one after the transaction commits;
the Celery task calls ``job_run``, which checks the requester again — still active, still
allowed — and runs the job's runner *as that user*, so everything it reads goes through the
jurisdiction filter at run time, not at request time."""

import datetime
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from kongchuo.errors import AppError
from kongchuo.xlsx import workbook_bytes

from . import audit, selectors
from .choices import Capability, JobKind, JobStatus
from .models import Job, User
from .permissions import can, register, require

logger = logging.getLogger(__name__)

Runner = Callable[[Job, User], None]
# Kind → (the permission action it needs — a capability or an action another app
# registered, such as ``ledger.consistency`` — and the function that does it).
RUNNERS: dict[str, tuple[str, Runner]] = {}
PROGRESS_EVERY = 1000
TRANSIENT_ERRORS = (ConnectionError, TimeoutError)
# The job's input file (an upload), kept under MEDIA_ROOT until the job has finished.
UPLOAD_PARAM = "upload"
# Where uploads wait: a job's input, and a page's file between its two steps (the
# comparisons' mapping step, the roster import's preview).
UPLOAD_FOLDERS = ("jobs/uploads", "comparisons/uploads")


# The permission action of an export any account may make of what it sees (the ledger, the
# 劝返 cases, the mismatches, the indicators): the list is already scoped by jurisdiction,
# so the job asks only that the requester is still signed in and active when it runs
# (``refusal`` answers that before any action's own rule).
SIGNED_IN = "jobs.signed_in"
register(SIGNED_IN, lambda user, obj=None: None)


def runner(kind: JobKind, capability: str):
    """Register the function that does a kind of job, and the permission action it needs
    (``can(user, capability)``, asked when the job is started and again when it runs)."""

    def register(fn: Runner) -> Runner:
        RUNNERS[kind] = (str(capability), fn)
        return fn

    return register


@transaction.atomic
def job_start(
    *, by: User, kind: str, params: dict | None = None, upload: File | None = None
) -> Job:
    """Queue a job. ``upload`` is stored for the worker (which may run on another machine
    sharing the media storage) and deleted when the job finishes."""
    if kind not in RUNNERS:
        raise AppError("不支持的任务类型。", field="kind")
    require(by, RUNNERS[kind][0])
    params = dict(params or {})
    if upload is not None:
        # A generated name: the user's file name never reaches the file system.
        params[UPLOAD_PARAM] = default_storage.save(f"jobs/uploads/{uuid.uuid4().hex}", upload)
    try:
        job = Job.objects.create(kind=kind, requested_by=by, params=params)
    except Exception:
        _discard_upload(params)
        raise
    from .tasks import run_job

    run_job.delay_on_commit(job.pk)
    return job


def read_upload(job: Job) -> bytes:
    with default_storage.open(job.params[UPLOAD_PARAM], "rb") as handle:
        return handle.read()


def _discard_upload(params: dict) -> None:
    path = params.get(UPLOAD_PARAM)
    if path and default_storage.exists(path):
        default_storage.delete(path)


def _fail(job: Job, message: str) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, message=message, finished_at=timezone.now()
    )


def job_run(job_id: int) -> None:
    """Run a queued job once. A job already finished is left alone, so a redelivered
    message does nothing twice."""
    job = Job.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None or job.finished:
        return
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    user = job.requested_by
    capability, run = RUNNERS[job.kind]
    if not can(user, capability):
        _fail(job, "申请人的账号已停用或已无此权限，任务未执行。")
        _discard_upload(job.params)
        return
    try:
        run(job, user)
    except AppError as exc:
        _fail(job, exc.message)
    except TRANSIENT_ERRORS:
        raise  # the retry needs the upload: it is kept
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _fail(job, "任务执行出错，已记录错误，请稍后重试或联系管理员。")
    _discard_upload(job.params)


def job_gave_up(job_id: int) -> None:
    """The worker gave up on a job after its retries: fail it, unless it finished."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.finished:
        return
    _fail(job, "任务多次重试仍未完成（数据库或文件存储暂时不可用），请稍后重新提交。")
    _discard_upload(job.params)


def missing_result(job: Job) -> str | None:
    """Why ``job`` has no file to download (the page's and the API's 404), None when it has.
    A failed job may still carry a file (an import's rows annotated with their errors)."""
    if not job.finished:
        return "结果文件尚未生成，请稍后再试。"
    if not job.result:
        return "结果文件已过保留期限被删除，或此任务没有结果文件。"
    return None


def report_progress(job: Job, done: int, total: int) -> None:
    Job.objects.filter(pk=job.pk).update(done=done, total=total)


def with_progress(job: Job, rows: Iterable, total: int) -> Iterator:
    report_progress(job, 0, total)
    done = 0
    for done, row in enumerate(rows, start=1):
        if done % PROGRESS_EVERY == 0:
            report_progress(job, done, total)
        yield row
    report_progress(job, done, total)


def finish(job: Job, *, message: str) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, message=message, finished_at=timezone.now()
    )


def finish_with_file(
    job: Job, *, content: bytes | File, filename: str, message: str, status: str = JobStatus.DONE
) -> None:
    """Finish with a result file (bytes, or an open file for large results); ``status``
    FAILED for a refusal that still hands the user a file (an import's rows annotated with
    what is wrong)."""
    job.result.save(
        filename, ContentFile(content) if isinstance(content, bytes) else content, save=False
    )
    Job.objects.filter(pk=job.pk).update(
        status=status,
        result=job.result.name,
        result_name=filename,
        message=message,
        finished_at=timezone.now(),
    )


@runner(JobKind.ACCOUNT_EXPORT, Capability.MANAGE_ACCOUNTS)
def export_accounts(job: Job, user: User) -> None:
    total = User.objects.for_user(user).count()
    content, rows = workbook_bytes(
        "账号",
        selectors.ACCOUNT_EXPORT_HEADERS,
        with_progress(job, selectors.account_export_rows(user), total),
    )
    audit.record_export(actor=user, what="账号名单", rows=rows)
    finish_with_file(
        job,
        content=content,
        filename=f"账号名单-{timezone.localdate():%Y%m%d}.xlsx",
        message=f"已导出 {rows} 个账号。",
    )


def purge_expired(now: datetime.datetime | None = None) -> tuple[int, int]:
    """Delete what is kept only for a while (issue 15 §6): a job's result file
    ``JOB_FILE_DAYS`` after the job finished (the job stays, saying the file has gone), and
    uploaded files left waiting — a step-1 upload never confirmed, an input file whose job
    is gone — ``UPLOAD_FILE_HOURS`` after they were stored. Returns (results, uploads)."""
    now = now or timezone.now()
    old = now - datetime.timedelta(days=settings.JOB_FILE_DAYS)
    results = 0
    for job in Job.objects.filter(finished_at__lt=old).exclude(result="").iterator():
        job.result.delete(save=False)
        gone = f"结果文件已于{timezone.localdate(now):%Y年%m月%d日}按保留期限（{settings.JOB_FILE_DAYS}天）删除，如需请重新生成。"
        Job.objects.filter(pk=job.pk).update(result="", message=f"{job.message} {gone}"[:500])
        results += 1
    waiting = {
        job.params.get(UPLOAD_PARAM)
        for job in Job.objects.filter(finished_at__isnull=True).only("params")
    }
    stale = now - datetime.timedelta(hours=settings.UPLOAD_FILE_HOURS)
    uploads = 0
    for folder in UPLOAD_FOLDERS:
        try:
            _, names = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            path = f"{folder}/{name}"
            if path not in waiting and default_storage.get_modified_time(path) < stale:
                default_storage.delete(path)
                uploads += 1
    if results or uploads:
        logger.info("过期文件已删除：结果文件 %s 个，上传文件 %s 个", results, uploads)
    return results, uploads
