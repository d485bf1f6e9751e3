"""Comparison runs (issue 13 rule 5): started by county staff, after each upload and by the
monthly schedule; queued after the transaction commits and done by a Celery task, one run per
county and kind of list, so that no task runs long; progress kept on the run (done of total
checks); cancellable between the checks, leaving nothing half written; a failure kept with
its message. ``engine.compare`` does the work and is safe to run twice."""

import logging

from django.db import OperationalError, transaction
from django.utils import timezone

from accounts import audit, jurisdiction
from accounts.choices import AuditAction
from accounts.models import Region, User
from accounts.permissions import can, require
from kongchuo.errors import AppError

from . import engine, permissions
from .choices import FINISHED_RUN_STATUSES, RunStatus, SourceKind
from .models import Run, Source

logger = logging.getLogger(__name__)

UNDER_WAY = (RunStatus.QUEUED, RunStatus.RUNNING)
TRANSIENT_ERRORS = (OperationalError, ConnectionError, TimeoutError)


def latest_run(county: Region, kind: str) -> Run | None:
    """The county's latest finished comparison of a kind of list."""
    return Run.objects.filter(county=county, kind=kind, status=RunStatus.DONE).first()


def latest_source(county: Region, kind: str) -> Source | None:
    return Source.objects.filter(county=county, kind=kind).first()


@transaction.atomic
def run_start(*, by: User | None, source: Source) -> Run:
    """Queue the comparison of ``source`` (``by`` None: the schedule). While one of the same
    county and kind is queued or running that one is handed back instead of a second — a
    queued one now comparing this newer list."""
    if by is not None:
        require(by, permissions.RUN)
        if not jurisdiction.contains(by, source):
            raise AppError("只能比对本县上传的名单。")
    # One start at a time per county: the check for a run under way and the new run agree.
    Region.objects.select_for_update().filter(pk=source.county_id).first()
    under_way = Run.objects.filter(
        county_id=source.county_id, kind=source.kind, status__in=UNDER_WAY
    ).first()
    if under_way is not None:
        if under_way.status == RunStatus.QUEUED and under_way.source_id != source.pk:
            newer = source.uploaded_at >= under_way.source.uploaded_at
            if newer:
                under_way.source = source
                under_way.save(update_fields=["source"])
        return under_way
    run = Run.objects.create(
        county_id=source.county_id,
        kind=source.kind,
        source=source,
        previous=latest_run(source.county, source.kind),
        started_by=by,
        total=len(engine.steps(source.kind)) + 1,
    )
    if by is not None:
        audit.record(
            actor=by,
            action=AuditAction.CREATE,
            obj=run,
            detail=f"发起数据比对：{source.get_kind_display()}“{source.name}”",
            region_code=source.county.code,
        )
    from .tasks import run_comparison

    run_comparison.delay_on_commit(run.pk)
    return run


def run_cancel(*, by: User, run: Run) -> Run:
    """Stop a run: a queued one at once, a running one after its current check. A finished
    run is left as it is."""
    require(by, permissions.RUN)
    if not jurisdiction.contains(by, run):
        raise AppError("只能取消本县的比对。")
    now = timezone.now()
    Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, cancel_requested=True, finished_at=now, message="比对已取消。"
    )
    Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(cancel_requested=True)
    run.refresh_from_db()
    return run


def run_progress(run: Run) -> dict:
    """How far a run is, as the page and the API show it (read fresh)."""
    run = Run.objects.get(pk=run.pk)
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "done": run.done,
        "total": run.total,
        "percent": round(100 * run.done / run.total) if run.total else 0,
        "finished": run.status in FINISHED_RUN_STATUSES,
        "cancel_requested": run.cancel_requested,
        "message": run.message,
        "counts": run.counts,
        "changes": run.changes,
    }


def _finish(run: Run, status: str, message: str) -> None:
    Run.objects.filter(pk=run.pk).update(status=status, message=message, finished_at=timezone.now())


def _step(run: Run):
    def step(done: int, total: int) -> None:
        Run.objects.filter(pk=run.pk).update(done=done, total=total)
        if Run.objects.filter(pk=run.pk, cancel_requested=True).exists():
            raise engine.Cancelled

    return step


def run_execute(run_id: int) -> None:
    """Do a queued run once (the Celery task). A finished run is left alone, so a redelivered
    message does nothing twice; one interrupted while running starts over."""
    run = Run.objects.select_related("county", "started_by").filter(pk=run_id).first()
    if run is None or run.status in FINISHED_RUN_STATUSES:
        return
    if run.cancel_requested:
        _finish(run, RunStatus.CANCELLED, "比对已取消。")
        return
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now())
    if run.started_by is not None and not can(run.started_by, permissions.RUN):
        _finish(run, RunStatus.FAILED, "发起人的账号已停用或已无比对权限，比对未执行。")
        return
    try:
        engine.compare(run, step=_step(run))
    except engine.Cancelled:
        _finish(run, RunStatus.CANCELLED, "比对已取消，未保存任何结果。")
    except AppError as exc:
        _finish(run, RunStatus.FAILED, exc.message)
    except TRANSIENT_ERRORS:
        raise  # retried by the task
    except Exception:
        logger.exception("comparison run %s failed", run.pk)
        _finish(run, RunStatus.FAILED, "比对出错，已记录错误，请稍后重试或联系管理员。")


def run_gave_up(run_id: int) -> None:
    """The worker gave up on a run after its retries: fail it, unless it finished."""
    Run.objects.filter(pk=run_id).exclude(status__in=FINISHED_RUN_STATUSES).update(
        status=RunStatus.FAILED,
        message="比对多次重试仍未完成（数据库暂时不可用），请稍后重新发起。",
        finished_at=timezone.now(),
    )


def start_county(county: Region) -> list[Run]:
    """The schedule's comparisons of a county: its latest list of each kind."""
    sources = [latest_source(county, kind) for kind in SourceKind.values]
    return [run_start(by=None, source=source) for source in sources if source is not None]


def counties_with_lists() -> list[int]:
    return sorted(set(Source.objects.values_list("county_id", flat=True)))
