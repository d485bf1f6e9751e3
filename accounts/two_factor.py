"""Two-factor login (issue 15 §2): a TOTP authenticator (django-otp's TOTPDevice) and ten
one-use recovery codes (RecoveryCode). The login page, the API token endpoint and the
account pages all call these.

Required for the roles in TWO_FACTOR_REQUIRED_ROLES (county administrators and staff in
production), optional for everyone else. A code is accepted once: a TOTP code not again
(django-otp keeps the last time step used), a recovery code is deleted when used; repeated
wrong codes slow the authenticator down (django-otp's throttling).

Recovery codes are stored as salted SHA-256 digests only, never as the codes (a copy of the
database gives no way in): each is 12 random base32 characters (60 bits, shown once as
``abcd-efgh-ijkl``), too many to try offline, and a plain digest keeps checking ten of them
instant, where a slow password hash would make every wrong code cost seconds.
"""

import hashlib
import hmac
import io
import secrets

import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from kongchuo.errors import AppError

from . import audit, jurisdiction
from .choices import AuditAction, Capability
from .models import RecoveryCode, User
from .permissions import require

RECOVERY_CODES = 10
RECOVERY_CODE_LENGTH = 12
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
WRONG_CODE = "验证码错误或已使用过，请输入验证器上当前的 6 位数字，或一个未用过的恢复码。"


def is_required(user: User) -> bool:
    return user.role in settings.TWO_FACTOR_REQUIRED_ROLES


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


CODE, ENROL = "code", "enrol"


def next_step(user: User) -> str | None:
    """What logging in (page or API) asks for after the right password: the code (CODE) of
    an enrolled account, the enrolment (ENROL) of one whose role requires two-factor, or
    nothing (None)."""
    if is_enrolled(user):
        return CODE
    return ENROL if is_required(user) else None


def pending_device(user: User) -> TOTPDevice:
    """The authenticator being enrolled (not yet confirmed): the same one until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=False)
    return device


def secret(device: TOTPDevice) -> str:
    """The key as the base32 text an authenticator app accepts typed in."""
    return device.config_url.split("secret=")[1].split("&")[0]


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as an SVG element (no script, no external resource)."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(
        out, kind="svg", scale=5, xmldecl=False, svgns=True, title="两步验证二维码"
    )
    return out.getvalue().decode()


def _clean(code) -> str:
    """The code as typed, without spaces or the recovery codes' dashes, in lower case."""
    return "".join(str(code or "").split()).replace("-", "").lower()


def recovery_digest(code: str, salt: str | None = None) -> str:
    """``salt$hex``: the SHA-256 of the salt and the (cleaned) code, what is stored."""
    salt = salt if salt is not None else secrets.token_hex(8)
    value = hashlib.sha256(f"{salt}${_clean(code)}".encode()).hexdigest()
    return f"{salt}${value}"


def _matches(code: str, digest: str) -> bool:
    salt, _, _ = digest.partition("$")
    return hmac.compare_digest(recovery_digest(code, salt), digest)


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def _use_recovery_code(user: User, code: str) -> bool:
    """Whether ``code`` is one of ``user``'s unused recovery codes; that one is used up. The
    delete decides, so two logins racing with one code cannot both pass."""
    for pk, digest in RecoveryCode.objects.filter(user=user).values_list("pk", "digest"):
        if _matches(code, digest):
            deleted, _ = RecoveryCode.objects.filter(pk=pk).delete()
            return deleted == 1
    return False


@transaction.atomic
def confirm(user: User, code) -> list[str]:
    """Confirm the pending authenticator with its first code; the recovery codes, to be
    shown once. A wrong code: AppError on ``code``, nothing changed."""
    if is_enrolled(user):
        raise AppError("该账号已启用两步验证。", field="code")
    device = pending_device(user)
    if not device.verify_token(_clean(code)):
        raise AppError("验证码不正确：请输入验证器上当前显示的 6 位数字。", field="code")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, digest=recovery_digest(c)) for c in codes]
    )
    audit.record(actor=user, action=AuditAction.TWO_FACTOR_ENROLLED, obj=user)
    return codes


def verify(user: User, code) -> bool:
    """Whether ``code`` is a current authenticator code or an unused recovery code of
    ``user`` (each accepted once)."""
    code = _clean(code)
    if not code:
        return False
    devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    if any(device.verify_token(code) for device in devices):
        return True
    return _use_recovery_code(user, code)


def record_wrong_code(user: User, where: str) -> None:
    audit.record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        obj=user,
        actor_name=user.username,
        detail=f"两步验证码错误（{where}）",
    )


def _remove_devices(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()


@transaction.atomic
def remove(*, user: User, code) -> None:
    """The user switches two-factor off, proving it with a code."""
    if not is_enrolled(user):
        raise AppError("该账号未启用两步验证。", field="code")
    if is_required(user):
        raise AppError("您的角色必须使用两步验证，不能停用；换手机请联系县级管理员重置。")
    if not verify(user, code):
        raise AppError(WRONG_CODE, field="code")
    _remove_devices(user)
    audit.record(actor=user, action=AuditAction.TWO_FACTOR_REMOVED, obj=user)


@transaction.atomic
def reset(*, by: User, user: User) -> None:
    """A county administrator resets an account's two-factor (a lost phone): the account
    enrols again at its next login if its role requires it."""
    require(by, Capability.MANAGE_ACCOUNTS)
    if user.pk == by.pk:
        # Not a way around remove()'s rules (a code, and roles that must keep it).
        raise AppError("不能重置自己的两步验证；如手机丢失，请联系另一位管理员重置。")
    if not jurisdiction.contains(by, user):
        raise AppError("该账号不在您的管辖范围内。")
    if not is_enrolled(user):
        raise AppError("该账号未启用两步验证，无需重置。")
    _remove_devices(user)
    audit.record(
        actor=by, action=AuditAction.TWO_FACTOR_REMOVED, obj=user, detail="管理员重置两步验证"
    )
