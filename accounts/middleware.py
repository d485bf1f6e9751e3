from . import audit


class RequestContextMiddleware:
    """Makes the client address available to the audit trail for the request's duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit.client_address(request.META.get("REMOTE_ADDR")):
            return self.get_response(request)
