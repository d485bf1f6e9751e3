"""Rate limits on what an attacker or a runaway script would hammer: the login form (per
address; django-axes already locks an account after 5 failures), look-ups by ID number or
name, and exports — per account and per address, counted in the shared cache by
django-ratelimit. The API's token endpoint has its own DRF throttles. Over the limit, a page
gets the 429 page and the API a JSON 429, both with ``Retry-After``."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import get_usage
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

TOO_MANY_MESSAGE = "请求过于频繁，请稍后再试。"
# The query parameters that look a child up by ID number or name.
_SEARCH_PARAMETERS = ("q", "id_number", "name")


@dataclass(frozen=True)
class Limit:
    group: str
    applies: Callable  # (request, resolver match) → bool
    per_account: str  # a setting's name, "" for none
    per_address: str


def _login(request, match) -> bool:
    # The password, and the two-factor code after it.
    return match.url_name in ("login", "login-code") and request.method == "POST"


def _search(request, match) -> bool:
    if match.url_name and match.url_name.startswith("lookup-"):
        return True
    return request.method == "GET" and any(request.GET.get(p) for p in _SEARCH_PARAMETERS)


# Every download of many records: exports, the 月报表's workbooks and the dashboard's tables.
# (A job's own result file is downloaded once it is made: not counted again.)
_EXPORT_SUFFIXES = ("-export", "-xlsx", "-workbook")
_EXPORT_NAMES = frozenset({"reports-dashboard-download"})


def _export(request, match) -> bool:
    name = match.url_name or ""
    return name.endswith(_EXPORT_SUFFIXES) or name in _EXPORT_NAMES


LIMITS = (
    Limit("login", _login, "", "RATELIMIT_LOGIN_ADDRESS"),
    Limit("search", _search, "RATELIMIT_SEARCH_ACCOUNT", "RATELIMIT_SEARCH_ADDRESS"),
    Limit("export", _export, "RATELIMIT_EXPORT_ACCOUNT", "RATELIMIT_EXPORT_ADDRESS"),
)


def _over(request, limit: Limit) -> int | None:
    """Seconds until the request may be retried, if one of ``limit``'s counters is spent."""
    counters = [("ip", limit.per_address)]
    if limit.per_account and request.user.is_authenticated:
        counters.append(("user", limit.per_account))
    for key, setting in counters:
        usage = get_usage(
            request,
            group=f"{limit.group}:{key}",
            key=key,
            rate=getattr(settings, setting),
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            return max(1, usage["time_left"])
    return None


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None  # ApiRateLimit, once DRF knows the account
        wait = _wait(request)
        if wait is None:
            return None
        response = render(request, "429.html", {"wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response


class ApiRateLimit(BaseThrottle):
    """The same limits for the API (settings: DEFAULT_THROTTLE_CLASSES)."""

    def allow_request(self, request, view):
        wait = _wait(request)
        if wait is not None:
            raise Throttled(wait=wait, detail=TOO_MANY_MESSAGE)
        return True


def _wait(request) -> int | None:
    for limit in LIMITS:
        if limit.applies(request, request.resolver_match):
            wait = _over(request, limit)
            if wait is not None:
                return wait
    return None
