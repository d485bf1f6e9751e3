"""Jurisdiction: what each user may see. The one place every page, API view, export and task
asks.

A user's *area* comes from their account's organisation unit:

- a region-bound account (county, township, city, province, village cadre) sees the region's
  subtree, found by the region's code prefix — a village cadre sees their whole township;
- a school account sees its school and, for a 中心校, the schools attached to it;
- a class teacher sees their own classes (and their school where a record has no class);
- personal records (a user's own background jobs) are seen by their owner only.

Each model registers the lookups that place its rows in the tree: ``region`` paths lead to a
region code, ``school`` paths to a school id, ``klass`` paths to a class id, and ``members``
paths to accounts named on the row, who see it wherever it sits (a 劝返 case's team member
from another township or a school). A model that was
never registered cannot be scoped at all (deny by default). Rows outside the area are simply
not in the queryset, so a look-up answers 404 whether the row is missing or not the user's.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import Http404

from kongchuo.append_only import AppendOnlyQuerySet

from .choices import PREFIX_LENGTH, READ_ONLY_ROLES, SCHOOL_ROLES, RegionLevel, Role
from .permissions import is_system_admin

ALL, REGION, SCHOOL, CLASS, NOTHING = "all", "region", "school", "class", "nothing"


@dataclass(frozen=True)
class Area:
    kind: str
    # Region areas: the subtree's code prefix. School and class areas: their county's prefix,
    # used only for reference data (administrative divisions) that models mark as such.
    prefix: str = ""
    school_ids: frozenset[int] = field(default_factory=frozenset)
    class_ids: frozenset[int] = field(default_factory=frozenset)
    read_only: bool = False


@dataclass(frozen=True)
class Paths:
    region: tuple[str, ...]
    school: tuple[str, ...] = ()
    klass: tuple[str, ...] = ()
    reference: bool = False
    owner: str = ""
    members: tuple[str, ...] = ()
    county: str = ""


_PATHS: dict[type[models.Model], Paths] = {}


def register(
    model: type[models.Model],
    *,
    region: tuple[str, ...] = (),
    school: tuple[str, ...] = (),
    klass: tuple[str, ...] = (),
    reference: bool = False,
    owner: str = "",
    members: tuple[str, ...] = (),
    county: str = "",
) -> None:
    """Declare where ``model``'s rows sit. ``reference`` data is visible county-wide to
    school and class accounts (they need it to fill in forms). ``owner`` names the account
    field of personal records (a user's own background jobs) that only their owner sees.
    ``members`` paths lead to accounts that see the row besides everyone whose area holds it.
    ``county`` names the county that keeps each row when everyone who sees it — through a
    region path or as a member — works in that county: a county account's (or a township's)
    rows are then first narrowed by that one indexed column, before the OR of the paths."""
    if not (region or owner):
        raise ImproperlyConfigured(f"{model.__name__}: give region paths or an owner field.")
    _PATHS[model] = Paths(
        region=region,
        school=school,
        klass=klass,
        reference=reference,
        owner=owner,
        members=members,
        county=county,
    )


def area_of(user) -> Area:
    """The area ``user`` may see, computed once per user object."""
    cached = getattr(user, "_jurisdiction_area", None)
    if cached is None:
        cached = _compute_area(user)
        if getattr(user, "pk", None) is not None:
            user._jurisdiction_area = cached
    return cached


def _compute_area(user) -> Area:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Area(NOTHING)
    if is_system_admin(user):
        return Area(ALL)
    read_only = user.role in READ_ONLY_ROLES
    if user.school_id:
        from .models import School, SchoolClass

        school = user.school
        county_prefix = school.township.code[:6]
        school_ids = frozenset(
            School.objects.filter(
                models.Q(pk=school.pk) | models.Q(parent_id=school.pk)
            ).values_list("pk", flat=True)
        )
        if user.role in SCHOOL_ROLES - {Role.CLASS_TEACHER} or user.role == Role.API_CLIENT:
            return Area(SCHOOL, prefix=county_prefix, school_ids=school_ids)
        if user.role == Role.CLASS_TEACHER:
            class_ids = frozenset(
                SchoolClass.objects.filter(head_teacher=user).values_list("pk", flat=True)
            )
            return Area(
                CLASS,
                prefix=county_prefix,
                school_ids=frozenset({school.pk}),
                class_ids=class_ids,
            )
        return Area(NOTHING)
    if user.region_id and user.role:
        region = user.region
        if user.role == Role.VILLAGE_CADRE and region.level == RegionLevel.VILLAGE:
            region = region.parent
        return Area(REGION, prefix=region.prefix, read_only=read_only)
    return Area(NOTHING)


def _any(lookups: tuple[str, ...], suffix: str, value) -> models.Q:
    return reduce(or_, (models.Q(**{f"{path}__{suffix}": value}) for path in lookups))


def area_filter(area: Area, paths: Paths) -> models.Q | None:
    """The condition that keeps a registered model's rows inside ``area`` (None: no rows)."""
    if area.kind == REGION:
        return _any(paths.region, "startswith", area.prefix)
    if area.kind == CLASS and paths.klass:
        return _any(paths.klass, "in", area.class_ids)
    if area.kind in (SCHOOL, CLASS):
        if paths.school:
            return _any(paths.school, "in", area.school_ids)
        if paths.reference:
            return _any(paths.region, "startswith", area.prefix)
    return None


def scope(user, queryset: models.QuerySet) -> models.QuerySet:
    """``queryset`` narrowed to what ``user`` may see."""
    try:
        paths = _PATHS[queryset.model]
    except KeyError:
        raise ImproperlyConfigured(
            f"{queryset.model.__name__} has no jurisdiction paths; call jurisdiction.register()."
        ) from None
    area = area_of(user)
    if area.kind == ALL:
        return queryset
    if paths.owner:
        return queryset.filter(**{paths.owner: user}) if area.kind != NOTHING else queryset.none()
    if area.kind == NOTHING:
        return queryset.none()
    county_prefix = PREFIX_LENGTH[RegionLevel.COUNTY]
    if paths.county and area.kind == REGION and len(area.prefix) >= county_prefix:
        queryset = queryset.filter(**{f"{paths.county}__code": area.prefix[:county_prefix]})
    condition = area_filter(area, paths)
    if paths.members:
        # A subquery, not a join: a row with several members must not come back several times.
        listed = queryset.model._base_manager.filter(_any(paths.members, "exact", user))
        listed = models.Q(pk__in=listed.values("pk"))
        condition = listed if condition is None else condition | listed
    return queryset.none() if condition is None else queryset.filter(condition)


def within(regions, queryset: models.QuerySet) -> models.QuerySet:
    """``queryset`` narrowed to the subtree of a region, or of any of several, for scheduled
    work that runs for an area rather than for a user (a county's nightly check)."""
    paths = _PATHS[queryset.model]
    if not isinstance(regions, Iterable):
        regions = [regions]
    conditions = [area_filter(Area(REGION, prefix=region.prefix), paths) for region in regions]
    return queryset.filter(reduce(or_, conditions)) if conditions else queryset.none()


def get_or_404(user, queryset: models.QuerySet | type[models.Model], **lookup):
    """One record by ``lookup`` if it exists inside ``user``'s area; 404 otherwise, the same
    answer for "missing" and "not yours"."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    try:
        return scope(user, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该记录。") from None


def contains(user, instance: models.Model) -> bool:
    """Whether ``instance`` (already saved) lies inside ``user``'s area."""
    return scope(user, type(instance)._default_manager.filter(pk=instance.pk)).exists()


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        return scope(user, self)


class AppendOnlyScopedQuerySet(AppendOnlyQuerySet, ScopedQuerySet):
    """Scoped rows that are never changed once written (audit trail, timelines)."""
