"""Writes to organisations and accounts. Pages, API, commands and tasks all call these.

Every service checks the actor's permission (accounts.permissions), keeps the target inside the actor's area,
validates, saves, re-checks that the saved record is still inside the area, and writes the
audit trail — all in one transaction.
"""

from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kongchuo.errors import AppError

from . import audit, jurisdiction, tokens
from .choices import COUNTY_GRANTABLE_ROLES, Capability, RegionLevel
from .models import Region, School, SchoolClass, User
from .permissions import is_system_admin, require


def _require_in_area(user, instance, field: str) -> None:
    if instance is not None and not jurisdiction.contains(user, instance):
        raise AppError("所选单位不在您的管辖范围内。", field=field)


def _save(*, by, instance, before: dict | None, exclude: tuple[str, ...] = ()) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise AppError.from_validation(exc) from None
    instance.save()
    # Re-check after the write: the saved record must still be inside the actor's area.
    if not jurisdiction.contains(by, instance):
        raise AppError("保存后的记录不在您的管辖范围内，操作已取消。")
    audit.record_change(actor=by, instance=instance, before=before)


@transaction.atomic
def region_create(*, by: User, parent: Region, code: str, name: str) -> Region:
    require(by, Capability.MANAGE_ORG)
    _require_in_area(by, parent, "parent")
    if parent.level >= RegionLevel.VILLAGE:
        raise AppError("村级区划下不能再设下级区划。", field="parent")
    if parent.level < RegionLevel.COUNTY:
        raise AppError("县级管理员只能在本县下设乡镇和村。", field="parent")
    if Region.objects.filter(code=code).exists():
        raise AppError(f"区划代码 {code} 已存在。", field="code")
    region = Region(parent=parent, code=code.strip(), name=name.strip(), level=parent.level + 1)
    _save(by=by, instance=region, before=None)
    return region


@transaction.atomic
def region_update(*, by: User, region: Region, name: str) -> Region:
    require(by, Capability.MANAGE_ORG)
    _require_in_area(by, region, "region")
    if region.level < RegionLevel.TOWNSHIP:
        raise AppError("县级及以上区划由省级统一维护。")
    before = audit.snapshot(region)
    region.name = name.strip()
    _save(by=by, instance=region, before=before)
    return region


def _school_fields_in_area(by, township: Region, parent: School | None) -> None:
    _require_in_area(by, township, "township")
    _require_in_area(by, parent, "parent")


@transaction.atomic
def school_create(
    *, by: User, code: str, name: str, kind: str, township: Region, parent: School | None = None
) -> School:
    require(by, Capability.MANAGE_ORG)
    _school_fields_in_area(by, township, parent)
    if School.objects.filter(code=code).exists():
        raise AppError(f"学校标识码 {code} 已被其他学校使用。", field="code")
    school = School(
        code=code.strip(), name=name.strip(), kind=kind, township=township, parent=parent
    )
    _save(by=by, instance=school, before=None)
    return school


@transaction.atomic
def school_update(
    *, by: User, school: School, name: str, kind: str, township: Region, parent: School | None
) -> School:
    require(by, Capability.MANAGE_ORG)
    _require_in_area(by, school, "school")
    _school_fields_in_area(by, township, parent)
    before = audit.snapshot(school)
    school.name, school.kind, school.township, school.parent = name.strip(), kind, township, parent
    _save(by=by, instance=school, before=before)
    return school


@transaction.atomic
def class_create(
    *,
    by: User,
    school: School,
    school_year: int,
    grade: int,
    name: str,
    head_teacher: User | None = None,
) -> SchoolClass:
    require(by, Capability.MANAGE_ORG)
    _require_in_area(by, school, "school")
    _require_in_area(by, head_teacher, "head_teacher")
    if SchoolClass.objects.filter(
        school=school, school_year=school_year, grade=grade, name=name
    ).exists():
        raise AppError("本校该学年该年级已有同名班级。", field="name")
    klass = SchoolClass(
        school=school,
        school_year=school_year,
        grade=grade,
        name=name.strip(),
        head_teacher=head_teacher,
    )
    _save(by=by, instance=klass, before=None)
    return klass


@transaction.atomic
def class_update(
    *, by: User, klass: SchoolClass, grade: int, name: str, head_teacher: User | None
) -> SchoolClass:
    require(by, Capability.MANAGE_ORG)
    _require_in_area(by, klass, "class")
    _require_in_area(by, head_teacher, "head_teacher")
    before = audit.snapshot(klass)
    klass.grade, klass.name, klass.head_teacher = grade, name.strip(), head_teacher
    _save(by=by, instance=klass, before=before)
    return klass


def _check_grantable(by: User, role: str, region: Region | None, school: School | None) -> None:
    if role not in COUNTY_GRANTABLE_ROLES and not is_system_admin(by):
        raise AppError("县级管理员不能创建市级、省级账号。", field="role")
    _require_in_area(by, region, "region")
    _require_in_area(by, school, "school")


@transaction.atomic
def account_create(
    *,
    by: User,
    username: str,
    full_name: str,
    role: str,
    password: str,
    region: Region | None = None,
    school: School | None = None,
    phone: str = "",
    email: str = "",
) -> User:
    require(by, Capability.MANAGE_ACCOUNTS)
    _check_grantable(by, role, region, school)
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise AppError(f"用户名“{username}”已被使用。", field="username")
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        region=region,
        school=school,
        phone=phone.strip(),
        email=email.strip(),
    )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise AppError("；".join(exc.messages), field="password") from None
    user.set_password(password)
    _save(by=by, instance=user, before=None)
    return user


@transaction.atomic
def account_update(
    *,
    by: User,
    user: User,
    full_name: str,
    role: str,
    region: Region | None,
    school: School | None,
    phone: str = "",
    email: str = "",
) -> User:
    require(by, Capability.MANAGE_ACCOUNTS)
    _require_in_area(by, user, "user")
    _check_grantable(by, role, region, school)
    before = audit.snapshot(user)
    user.full_name, user.role, user.region, user.school = full_name.strip(), role, region, school
    user.phone, user.email = phone.strip(), email.strip()
    _save(by=by, instance=user, before=before, exclude=("password",))
    return user


def end_sessions_and_tokens(user: User, *, by: User | None = None) -> None:
    """Log ``user`` out everywhere at once: every browser session and every API token."""
    tokens.revoke_all(user, by=by)
    user_id = str(user.pk)
    stale = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == user_id
    ]
    Session.objects.filter(session_key__in=stale).delete()


@transaction.atomic
def account_set_active(*, by: User, user: User, active: bool) -> User:
    require(by, Capability.MANAGE_ACCOUNTS)
    _require_in_area(by, user, "user")
    if user.pk == by.pk and not active:
        raise AppError("不能停用自己正在使用的账号。")
    before = audit.snapshot(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        end_sessions_and_tokens(user, by=by)
    audit.record_change(
        actor=by, instance=user, before=before, detail="启用账号" if active else "停用账号"
    )
    return user
