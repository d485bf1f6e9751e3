"""Who viewed a child (issue 15 §4, Primero's "who accessed"): opening a child's record — the
student, a ledger entry, a 劝返 case — by page or API detail writes an audit row (``VIEW``),
at most one per user, record and clock hour.

The apps above ``accounts`` say which of their records are about a child with ``about_child``
(the detail viewsets do it through ``LoggedDetailMixin``); ``accounts.selectors.child_views``
reads the views of a child and of those records, for the student page's panel and the audit
list filtered to a child.
"""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import models
from django.utils import timezone

from . import audit, jurisdiction
from .choices import AuditAction, Role
from .models import AuditEvent

PAGE, API = "页面", "接口"
# Who sees "谁查看过该学生": the principal of the child's school and the county.
VIEWER_ROLES = frozenset({Role.PRINCIPAL, Role.COUNTY_STAFF, Role.COUNTY_ADMIN})

# (model, path from a record of it to the child's id: "pk" for the student itself).
_ABOUT_CHILD: dict[type[models.Model], str] = {}


def about_child(model: type[models.Model], path: str) -> None:
    """Count views of ``model``'s records as views of the child at ``path`` (an ORM lookup
    from a record to the student's id, e.g. ``"entry__student_id"``)."""
    _ABOUT_CHILD[model] = path


def child_records() -> list[tuple[type[models.Model], str]]:
    return sorted(_ABOUT_CHILD.items(), key=lambda item: item[0]._meta.label)


def may_see_viewers(user) -> bool:
    return jurisdiction.is_system_admin(user) or getattr(user, "role", "") in VIEWER_ROLES


def _hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def record_view(actor, obj: models.Model, *, via: str) -> AuditEvent | None:
    """Record that ``actor`` opened ``obj`` (``via``: the page or API path), unless they did
    within this clock hour. Two requests at once: the cache's atomic ``add`` lets one of
    them through; the database check covers a cache that lost its keys."""
    if not getattr(actor, "is_authenticated", False):
        return None
    hour = _hour(timezone.now())
    label, pk = obj._meta.label, str(obj.pk)
    key = f"viewed:{actor.pk}:{label}:{pk}:{hour:%Y%m%d%H}"
    if not cache.add(key, 1, timeout=int(timedelta(hours=1).total_seconds())):
        return None
    seen = AuditEvent.objects.filter(
        action=AuditAction.VIEW, object_type=label, object_id=pk, actor_id=actor.pk, at__gte=hour
    )
    if seen.exists():
        return None
    return audit.record(actor=actor, action=AuditAction.VIEW, obj=obj, detail=via)


def page_view(request, obj: models.Model) -> None:
    record_view(request.user, obj, via=f"{PAGE} {request.path}")


class LoggedDetailMixin:
    """For a DRF viewset whose detail (``retrieve``) is a child's record: each retrieve is
    recorded by ``record_view``. ``child_path`` leads from the record to the child's id."""

    child_path = "pk"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        about_child(cls.queryset.model, cls.child_path)

    def get_object(self):
        obj = super().get_object()
        if self.action == "retrieve":
            record_view(self.request.user, obj, via=f"{API} {self.request.path}")
        return obj
