"""One permission check: ``can(user, action, obj=None)`` — may this user do this (here)?

Pages, the API, templates (the ``can`` filter of ``accounts_tags``), services and tasks all
ask the same function. An *action* is a name: the accounts app's capabilities
(``Capability``: 管理学籍, 查看完整身份证号 …, granted to roles by ``ROLE_CAPABILITIES``), and
what the other apps register when they load (``ledger.confirm``, ``calendar.edit`` …), whose
rules stay in those apps' own tables (the ledger's state machine says which roles take which
transition).

Each action has one *refusal* function: ``None`` when the user may, else the reason in
Chinese. ``can`` is "no reason", ``require`` raises the reason as an AppError, and pages turn
it into a 403 (``accounts.views.check``). With ``obj`` the refusal may look at the record (the
state of a ledger entry, the owner of a calendar); whether the record is inside the user's
area is jurisdiction's question and is asked before (``jurisdiction.get_or_404``).
"""

from collections.abc import Callable, Iterable

from django.core.exceptions import ImproperlyConfigured

from kongchuo.errors import AppError

from .choices import ROLE_CAPABILITIES, Capability

Refusal = Callable[..., str | None]
_REFUSALS: dict[str, Refusal] = {}


def register(action: str, refusal: Refusal) -> None:
    """Declare how ``action`` is decided: ``refusal(user, obj)`` gives the reason a user may
    not, or None. Called once per action, when its app loads."""
    if action in _REFUSALS and _REFUSALS[action] is not refusal:
        raise ImproperlyConfigured(f"permission action {action!r} is registered twice")
    _REFUSALS[action] = refusal


def by_roles(roles: Iterable[str], message: str) -> Refusal:
    """A refusal that lets ``roles`` act and tells everyone else ``message``."""
    allowed = frozenset(roles)

    def refusal(user, obj=None) -> str | None:
        return None if user.role in allowed else message

    return refusal


def is_system_admin(user) -> bool:
    """The installation's superuser without a role: sees and may do everything."""
    return bool(user.is_superuser) and not user.role


def refusal(user, action: str, obj=None) -> str | None:
    """Why ``user`` may not take ``action`` (on ``obj``), or None when they may."""
    try:
        decide = _REFUSALS[str(action)]
    except KeyError:
        raise ImproperlyConfigured(f"unknown permission action {action!r}") from None
    if user is None or not (user.is_authenticated and user.is_active):
        return "请先登录。"
    if is_system_admin(user):
        return None
    return decide(user, obj)


def can(user, action: str, obj=None) -> bool:
    return refusal(user, action, obj) is None


def require(user, action: str, obj=None) -> None:
    """Raise the refusal, if any, as the one application error."""
    reason = refusal(user, action, obj)
    if reason is not None:
        raise AppError(reason)


def _capability(capability: Capability) -> Refusal:
    return by_roles(
        (role for role, granted in ROLE_CAPABILITIES.items() if capability in granted),
        f"当前账号没有“{capability.label}”的权限。",
    )


for _each in Capability:
    register(_each.value, _capability(_each))
