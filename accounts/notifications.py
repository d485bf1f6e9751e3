"""The in-app notification centre: writes (notify, mark read) and the unread count.

Rules in other apps (attendance, the ledger) call ``notify``; it stores one notification per
active recipient and e-mails those with an address once the caller's transaction commits.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.utils import timezone

from kongchuo.errors import AppError

from .choices import NotificationKind
from .models import Notification, User

logger = logging.getLogger(__name__)

EMAIL_FOOTER = "详情请登录控辍保学台账，在“通知”中查看。"


def subject(name: str = "", *, school=None, klass=None) -> str:
    """Whom a notification is about, as every title names them — school, class, child:
    "南涧镇中心学校 一年级1班 何晓". A principal or a township official reads many titles in
    a list; the school and the class tell whose child it is before opening any. Parts that
    are unknown (a child never enrolled has no class) are left out."""
    parts = (school.name if school is not None else "", str(klass) if klass else "", name)
    return " ".join(part for part in parts if part)


def notify(
    recipients: Iterable[User],
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    dedupe_key: str = "",
) -> list[Notification]:
    """Notify each active account in ``recipients`` once. With a ``dedupe_key``, an account
    that already has a notification with that key gets none. Returns the new notifications."""
    if kind not in NotificationKind.values:
        raise AppError(f"不支持的通知类型：{kind}。", field="kind")
    title = title.strip()
    if not title:
        raise AppError("通知标题不能为空。", field="title")
    # The list page redirects to the link: only paths inside this site.
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise AppError("通知链接应为站内地址（以 / 开头）。", field="link")
    targets = {user.pk: user for user in recipients if user.is_active}
    with transaction.atomic():
        if dedupe_key and targets:
            # Notifications are partitioned by month, so no unique index holds a key: two
            # runs with the same key take turns on it, the second finding the first's rows.
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [dedupe_key])
            already = Notification.objects.filter(
                dedupe_key=dedupe_key, recipient_id__in=targets
            ).values_list("recipient_id", flat=True)
            for pk in already:
                targets.pop(pk, None)
        if not targets:
            return []
        created = Notification.objects.bulk_create(
            Notification(
                recipient=user, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key
            )
            for user in targets.values()
        )
    messages = [
        (title, _email_text(body, link), None, [user.email])
        for user in targets.values()
        if user.email
    ]
    if messages:
        transaction.on_commit(lambda: _send(messages))
    return created


def _email_text(body: str, link: str) -> str:
    # The link is a path inside the site: with the site's address known it goes in whole,
    # otherwise the mail points to the notification centre.
    site = settings.KONGCHUO_SITE_URL.rstrip("/")
    footer = f"查看详情：{site}{link}" if site and link else EMAIL_FOOTER
    return f"{body}\n\n{footer}" if body else footer


def _send(messages: list[tuple]) -> None:
    # The notifications are already stored; a mail server that is down must not turn the
    # committed request into an error page.
    try:
        send_mass_mail(messages, fail_silently=False)
    except OSError:
        logger.exception("通知邮件发送失败（%d 封）", len(messages))


def unread_count(user) -> int:
    # Notifications are owner-only: the recipient filter is the whole scope, and it keeps the
    # navigation bar at one COUNT query per page.
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s own unread notifications read: those in ``ids``, or all when None.
    Returns how many changed; other users' ids are ignored."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
