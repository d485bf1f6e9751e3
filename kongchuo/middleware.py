from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.utils.cache import add_never_cache_headers

from . import views


class DenyByDefaultMiddleware(LoginRequiredMiddleware):
    """Every page needs a login unless its view is marked ``login_not_required``.

    The API authenticates inside Django REST framework (token or session) and refuses
    anonymous requests there, so it is left to DRF's default ``IsAuthenticated``.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class NoStoreMiddleware:
    """Pages and API answers carry personal data: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


class MethodNotAllowedPageMiddleware:
    """Django answers a request with the wrong method (``require_POST``; log-out, which only
    takes a POST) with an empty 405, which a browser shows as a blank page: a person who
    opens such an address from the address bar or a bookmark gets the site's page instead.
    The API's 405s already carry JSON and are left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and not response.streaming
            and not response.content
            and not request.path_info.startswith("/api/")
        ):
            return views.method_not_allowed(request, response.get("Allow", ""))
        return response


class ClientAddressMiddleware:
    """Behind the TLS proxy every request comes from the proxy: with CLIENT_ADDRESS_HEADER
    set (the META name of the header the proxy sets, e.g. HTTP_X_REAL_IP, which it overwrites
    on every request), that is the client's address for everything after — the rate limits,
    the audit trail, a token's last use. Unset, REMOTE_ADDR is the client."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = settings.CLIENT_ADDRESS_HEADER

    def __call__(self, request):
        if self.header:
            address = request.META.get(self.header, "").split(",")[0].strip()
            if address:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """The ``Permissions-Policy`` header (settings.PERMISSIONS_POLICY): browser features no
    page uses stay off, whatever a script loaded by mistake asks for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
