"""API tokens, one per client (issue 15 §1). The page, the API and account deactivation all
call these.

A token's secret is 43 random URL-safe characters shown once, when it is issued; only its
SHA-256 digest is stored, so a copy of the database holds no usable token. Each token has a
name (the syncing system), an expiry, an optional read-only scope, who issued it, and when
and from where it was last used. Logging in again issues a new token; logout and revocation
end only the one token.
"""

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kongchuo.errors import AppError

from . import audit, jurisdiction
from .choices import AuditAction, Capability
from .models import ApiToken, User
from .permissions import require


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    secret: str  # shown once; never stored


class Refused(Exception):
    """A token that cannot be used, with the reason to give the client (401)."""


def _days(value: int | None) -> int:
    days = settings.API_TOKEN_DAYS if value is None else value
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise AppError(
            f"有效天数应在 1 到 {settings.API_TOKEN_MAX_DAYS} 之间。", field="expires_in_days"
        )
    return days


@transaction.atomic
def issue(
    *,
    user: User,
    name: str = "",
    read_only: bool = False,
    days: int | None = None,
    by: User | None = None,
) -> Issued:
    """A new token for ``user``: every call gives a different one."""
    name = (name or "").strip() or "接口客户端"
    if len(name) > 64:
        raise AppError("客户端名称不能超过 64 个字符。", field="name")
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        digest=digest(secret),
        prefix=secret[:8],
        read_only=read_only,
        created_at=now,
        created_by=by or user,
        expires_at=now + datetime.timedelta(days=_days(days)),
    )
    audit.record(
        actor=by or user,
        action=AuditAction.TOKEN_ISSUED,
        obj=user,
        detail=f"{name}（{token.prefix}…{'，只读' if read_only else ''}）",
    )
    return Issued(token=token, secret=secret)


def authenticate(secret: str, *, address: str | None = None) -> ApiToken:
    """The live token ``secret`` names, its last use noted; Refused with the reason else."""
    token = (
        ApiToken.objects.select_related("user").filter(digest=digest(secret)).first()
        if secret
        else None
    )
    if token is None:
        raise Refused("令牌无效：请用用户名和密码重新申请令牌（POST /api/v1/auth/token/）。")
    if token.revoked_at is not None:
        raise Refused("令牌已被吊销，请重新申请令牌。")
    now = timezone.now()
    if token.expires_at <= now:
        raise Refused("令牌已过期，请重新申请令牌。")
    if not token.user.is_active:
        raise Refused("账号已停用，令牌不再有效。")
    # One UPDATE by primary key on every call: the same queries whatever the token's history.
    token.last_used_at, token.last_used_ip = now, address
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=address)
    return token


def _revoke(token: ApiToken, *, by: User, detail: str) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        actor=by,
        action=AuditAction.TOKEN_REVOKED,
        obj=token.user,
        detail=f"{token.name}（{token.prefix}…）{detail}",
    )


def live(user: User):
    """``user``'s tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user, revoked_at=None, expires_at__gt=timezone.now())


@transaction.atomic
def revoke(*, by: User, token_id, owner: User | None = None) -> ApiToken:
    """Revoke one token: ``by``'s own, or (``owner`` given) one of an account in the area
    of ``by``, a county administrator. A token that is not there, not live or not the
    caller's to revoke: the same error."""
    owner = owner or by
    if owner.pk != by.pk:
        require(by, Capability.MANAGE_ACCOUNTS)
        if not jurisdiction.contains(by, owner):
            raise AppError("该账号不在您的管辖范围内。", field="token")
    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        raise AppError("令牌编号应为数字。", field="token") from None
    token = live(owner).select_for_update().filter(pk=token_id).first()
    if token is None:
        raise AppError(f"令牌“{token_id}”不存在或已失效。", field="token")
    _revoke(token, by=by, detail="" if owner.pk == by.pk else "（由管理员吊销）")
    return token


@transaction.atomic
def log_out(*, token: ApiToken) -> None:
    """The client's logout: its own token only."""
    _revoke(token, by=token.user, detail="（客户端退出）")


def revoke_all(user: User, *, by: User | None = None) -> int:
    """Every live token of ``user`` (deactivation), one audit row for all."""
    count = live(user).update(revoked_at=timezone.now())
    if count:
        audit.record(
            actor=by,
            action=AuditAction.TOKEN_REVOKED,
            obj=user,
            detail=f"账号停用，吊销全部 {count} 个令牌",
        )
    return count
