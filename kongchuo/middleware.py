from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.utils.cache import add_never_cache_headers


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
