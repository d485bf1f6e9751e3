"""Reads for pages and API: always through the jurisdiction filter."""

from datetime import date, datetime, time

from django.db.models import Count, QuerySet
from django.utils import timezone

from . import jurisdiction
from .choices import RegionLevel
from .models import AuditEvent, Region, School, SchoolClass, User


def audit_events(
    user,
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.for_user(user).select_related("actor")
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_name__icontains=actor.strip())
    if object_type:
        events = events.filter(object_type__icontains=object_type.strip())
    if since:
        events = events.filter(at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until:
        events = events.filter(at__lte=timezone.make_aware(datetime.combine(until, time.max)))
    return events


def home_summary(user) -> dict:
    """Counts for the home page, each within the user's area."""
    area = jurisdiction.area_of(user)
    townships = Region.objects.for_user(user).filter(level=RegionLevel.TOWNSHIP)
    return {
        "area": area,
        "area_name": area_name(user),
        "townships": townships.count() if area.kind == jurisdiction.REGION else None,
        "schools": School.objects.for_user(user).count(),
        "classes": SchoolClass.objects.for_user(user).count(),
        "accounts": User.objects.for_user(user).filter(is_active=True).count(),
    }


def area_name(user) -> str:
    if user.school_id:
        return user.school.name
    if user.region_id:
        chain = []
        region = user.region
        while region is not None:
            chain.append(region.name)
            region = region.parent
        return "".join(reversed(chain))
    return "全部" if user.is_superuser else "无"


def schools(
    user, *, township: int | None = None, kind: str = "", query: str = ""
) -> QuerySet[School]:
    result = (
        School.objects.for_user(user)
        .select_related("township", "parent")
        .annotate(class_count=Count("classes"))
    )
    if township:
        result = result.filter(township_id=township)
    if kind:
        result = result.filter(kind=kind)
    if query:
        result = result.filter(name__icontains=query.strip()) | result.filter(code=query.strip())
    return result
