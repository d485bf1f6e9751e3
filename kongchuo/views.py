"""Error pages, and their JSON twins for the API: under /api/ every answer is JSON, whether the
error comes from DRF, from Django's URL resolver or from an exception nothing else caught.
Outside the API every error a person can meet — 400, 403 (a refusal or a failed CSRF check),
404, 405, 500 — is a page in Chinese in the site's layout with a way home, whatever DEBUG."""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme

from kongchuo.api import NOT_FOUND_MESSAGE

SERVER_ERROR_MESSAGE = "服务器内部错误，已记录，请稍后重试。"
BAD_REQUEST_MESSAGE = "请求无效。"
FORBIDDEN_MESSAGE = "您没有执行此操作的权限。"
CSRF_MESSAGE = "安全校验未通过，请刷新页面后重试。"
# If even 500.html cannot be rendered (a template or static-file problem is often what failed).
_PLAIN_SERVER_ERROR = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>服务器内部错误</title>'
    "</head><body><h1>服务器内部错误</h1><p>错误已记录，请稍后重试。</p>"
    '<p><a href="/">返回首页</a></p></body></html>'
)


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _json(message: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"detail": message}, status=status, json_dumps_params={"ensure_ascii": False}
    )


def not_found(request, exception=None):
    if _is_api(request):
        return _json(NOT_FOUND_MESSAGE, 404)
    return render(request, "404.html", status=404)


def forbidden(request, exception=None):
    message = str(exception) if exception and str(exception) else FORBIDDEN_MESSAGE
    if _is_api(request):
        return _json(message, 403)
    return render(request, "403.html", {"message": message}, status=403)


def bad_request(request, exception=None):
    if _is_api(request):
        return _json(BAD_REQUEST_MESSAGE, 400)
    return render(request, "400.html", status=400)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent with a stale or missing token (a page left open past
    the session, opened before a log-in in another tab, cookies refused). Django has already
    logged ``reason``; the person is told that nothing was done and how to send it again."""
    if _is_api(request):
        return _json(CSRF_MESSAGE, 403)
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return render(request, "403_csrf.html", {"back": referer if safe else ""}, status=403)


def method_not_allowed(request, allowed: str = ""):
    """A page in place of the empty 405 that ``require_POST`` and POST-only views (log-out)
    answer to an address opened in the browser (kongchuo.middleware)."""
    response = render(request, "405.html", status=405)
    if allowed:
        response["Allow"] = allowed
    return response


def server_error(request):
    """Rendered without the request: no context processor, so no database query, since the
    database may be what failed."""
    if _is_api(request):
        return _json(SERVER_ERROR_MESSAGE, 500)
    try:
        body = loader.get_template("500.html").render()
    except Exception:  # the page of last resort must not fail in turn
        body = _PLAIN_SERVER_ERROR
    return HttpResponseServerError(body)
