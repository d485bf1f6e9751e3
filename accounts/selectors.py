"""Reads for pages and API: always through the jurisdiction filter."""

from datetime import date, datetime, time

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kongchuo.masking import mask_phone

from . import jurisdiction, views_log
from .choices import AuditAction, RegionLevel, Role
from .models import AuditEvent, Notification, Region, School, SchoolClass, User


def audit_events(
    user,
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    since: date | None = None,
    until: date | None = None,
    child: int | None = None,
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.for_user(user).select_related("actor")
    if child:
        events = events.filter(_about_child(child))
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


def _about_child(child_id: int) -> Q:
    """Audit rows about the student ``child_id`` or a record about them (views_log): one
    look-up of ids per kind of record, then the (object_type, object_id, at) index."""
    condition = Q(pk__in=[])
    for model, path in views_log.child_records():
        ids = model._base_manager.filter(**{path: child_id}).values_list("pk", flat=True)
        condition |= Q(object_type=model._meta.label, object_id__in=[str(pk) for pk in ids])
    return condition


def child_views(user, child) -> QuerySet[AuditEvent]:
    """Who viewed ``child`` — the student, their ledger entries and 劝返 cases — newest first,
    for those who may know (``views_log.may_see_viewers``) and see the child; nothing
    otherwise. Not through AuditEvent's own scope, which a school's account does not pass:
    the child's record is the gate."""
    if not views_log.may_see_viewers(user) or not jurisdiction.contains(user, child):
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(_about_child(child.pk), action=AuditAction.VIEW)
        .select_related("actor")
        .order_by("-at", "-id")
    )


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


def regions(user, *, query: str = "") -> QuerySet[Region]:
    """The counties, townships and villages of ``user``'s area in code order (a subtree reads
    as a tree), searched by name or code prefix."""
    result = (
        Region.objects.for_user(user)
        .filter(level__gte=RegionLevel.COUNTY)
        .annotate(school_count=Count("schools"))
        .order_by("code")
    )
    query = query.strip()
    if query:
        result = result.filter(Q(name__contains=query) | Q(code__startswith=query))
    return result


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
        .order_by("code")
    )
    if township:
        result = result.filter(township_id=township)
    if kind:
        result = result.filter(kind=kind)
    if query:
        result = result.filter(Q(name__icontains=query.strip()) | Q(code=query.strip()))
    return result


ACCOUNT_EXPORT_HEADERS = ["用户名", "姓名", "角色", "所属单位", "手机号", "状态", "最近登录"]


def account_export_rows(user):
    """The accounts ``user`` may see, as export rows; phone numbers masked."""
    accounts = User.objects.for_user(user).select_related("region", "school").order_by("username")
    for account in accounts.iterator(chunk_size=2000):
        yield [
            account.username,
            account.full_name,
            account.get_role_display(),
            str(account.org_unit or ""),
            mask_phone(account.phone),
            "在用" if account.is_active else "已停用",
            timezone.localtime(account.last_login).strftime("%Y-%m-%d %H:%M")
            if account.last_login
            else "",
        ]


def notifications(user, *, unread: bool | None = None) -> QuerySet[Notification]:
    """``user``'s own notifications, newest first. The recipient filter on top of the scope
    keeps the centre personal even for an all-seeing superuser."""
    result = Notification.objects.for_user(user).filter(recipient=user)
    if unread is not None:
        result = result.filter(read_at__isnull=unread)
    return result.order_by("-created_at", "-id")


def recipients_for_school(school, roles=(Role.PRINCIPAL,)) -> QuerySet[User]:
    """Active accounts of ``school`` holding one of ``roles`` (by default its principal)."""
    return User.objects.filter(school=school, role__in=roles, is_active=True)


def recipients_for_township(region, roles=(Role.TOWNSHIP_OFFICIAL,)) -> QuerySet[User]:
    """Active accounts of township ``region`` and its villages holding one of ``roles`` (by
    default its township officials)."""
    return User.objects.filter(
        region__code__startswith=region.prefix, role__in=roles, is_active=True
    )
