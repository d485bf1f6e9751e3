"""Login events go to the audit trail. Django sends these signals from its own login code,
so receiving them is the one way to see every login, logout and failure."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit
from .choices import AuditAction


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit.record(actor=user, action=AuditAction.LOGIN, obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(actor=user, action=AuditAction.LOGOUT, obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    known = (
        get_user_model()
        .objects.filter(username=username)
        .select_related("school__township", "region")
        .first()
    )
    audit.record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        obj=known,
        actor_name=username,
        detail="" if known else "用户名不存在",
    )
