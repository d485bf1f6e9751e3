"""The health endpoint for a load balancer: is the database answering, is the broker
reachable, has a Celery worker run its heartbeat lately through every queue. It answers 200
or 503 with one word per check and nothing else: no versions, host names or error text."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .models import Heartbeat

logger = logging.getLogger(__name__)


def beat(worker: str, queue: str, *, at: datetime.datetime | None = None) -> None:
    """Record that ``worker`` is alive and takes work from ``queue`` (the heartbeat tasks)."""
    Heartbeat.objects.update_or_create(
        worker=worker, queue=queue, defaults={"at": at or timezone.now()}
    )


def queues() -> list[str]:
    """Every queue a worker must be behind: the default one and each workload's."""
    from kongchuo import celery

    return [celery.queue_name(workload) for workload in (celery.DEFAULT, *celery.QUEUES)]


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.exception("健康检查：数据库不可用")
        return False


def _broker() -> bool:
    from kongchuo.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_BROKER_TIMEOUT)
        return True
    except Exception:  # kombu raises its transports' own errors: any failure is "down"
        logger.exception("健康检查：消息队列不可用")
        return False


def _worker(now: datetime.datetime) -> bool:
    """Whether every queue had a heartbeat lately: a queue with no worker behind it (the
    interactive worker stopped, say) leaves imports and exports waiting for ever."""
    fresh = now - datetime.timedelta(seconds=settings.HEALTH_HEARTBEAT_SECONDS)
    try:
        alive = set(Heartbeat.objects.filter(at__gte=fresh).values_list("queue", flat=True))
    except DatabaseError:
        return False
    return alive.issuperset(queues())


@login_not_required
@never_cache
@require_GET
def health(request):
    checks = {"database": _database(), "broker": _broker()}
    checks["worker"] = checks["database"] and _worker(timezone.now())
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "failed" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)
