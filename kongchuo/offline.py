"""The offline layer's server side (issue 17): what the phone's outbox relies on.

- ``OfflineWrite``: the base of each app's record of the writes a phone made offline, keyed by
  the client-generated UUID, with what the write produced, so that a replay answers the same
  result and writes nothing (attendance.OfflineRoll, returns.OfflineVisit).
- ``once``: the one way a service makes such a write.
- ``Conflict``: the refusal of an edit based on a version the server no longer has; the API
  answers it with 409 and the server's copy.
- The service worker at ``/sw.js`` (so that it controls the whole site), the web app manifest,
  and ``WipeOnDeactivationMiddleware``, which tells a browser whose account was deactivated to
  wipe what it keeps.
"""

import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.db import connection, models
from django.http import Http404, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from .errors import AppError

# The header the page script and the worker recognise: wipe the cache and the outbox.
WIPE_HEADER = "X-Kongchuo-Wipe"


class OfflineWrite(models.Model):
    client_id = models.UUIDField("离线记录编号", unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", on_delete=models.PROTECT, related_name="+"
    )
    result = models.JSONField("处理结果")
    received_at = models.DateTimeField("收到时间", auto_now_add=True)

    class Meta:
        abstract = True


class Conflict(AppError):
    """The record changed on the server since the phone loaded it: ``current`` is the server's
    copy (the API shows it), ``base`` the version to send to keep the phone's edit anyway."""

    def __init__(self, message: str, *, current, base):
        super().__init__(message, field="base")
        self.current = current
        self.base = base


def once(
    model: type[OfflineWrite],
    *,
    client_id: uuid.UUID,
    by,
    write: Callable[[], tuple[dict, dict]],
) -> dict:
    """Run ``write`` once per ``client_id``: it returns (result, the record's links) and the
    result is kept; a replay of the same UUID gets the kept result with ``replayed``. Inside the
    caller's transaction; two replays arriving together wait for each other on the UUID."""
    if not isinstance(client_id, uuid.UUID):
        raise AppError("离线记录编号（client_id）应为UUID。", field="client_id")
    key = int.from_bytes(client_id.bytes[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    earlier = model.objects.filter(client_id=client_id).first()
    if earlier is not None:
        if earlier.user_id != by.pk:
            raise AppError("该离线记录编号已被其他账号使用，请重新提交。", field="client_id")
        return {**earlier.result, "replayed": True}
    result, links = write()
    model.objects.create(client_id=client_id, user=by, result=result, **links)
    return {**result, "replayed": False}


# -- the worker, the manifest, the wipe ---------------------------------------------------------


@login_not_required
@require_GET
def service_worker(request):
    """static/js/sw.js served from the root, so that its scope is the whole site."""
    path = finders.find("js/sw.js")
    if path is None:
        raise Http404("未找到离线脚本。")
    with open(path, encoding="utf-8") as source:
        response = HttpResponse(source.read(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@login_not_required
@require_GET
def manifest(request):
    return JsonResponse(
        {
            "name": "控辍保学台账",
            "short_name": "控辍保学",
            "lang": "zh-CN",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#1f5fa8",
            "icons": [
                {
                    "src": static(f"icons/icon-{size}.png"),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                }
                for size in (192, 512)
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


class WipeOnDeactivationMiddleware:
    """A request from a browser still holding the session of a deactivated account (Django
    has already treated it as logged out) gets ``X-Kongchuo-Wipe`` and ``Clear-Site-Data``:
    the page script and the worker wipe the cached pages and the outbox."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and not user.is_authenticated and session is not None:
            pk = session.get(SESSION_KEY)
            if pk is not None and get_user_model().objects.filter(pk=pk, is_active=False).exists():
                response[WIPE_HEADER] = "deactivated"
                response["Clear-Site-Data"] = '"cache", "storage"'
        return response
