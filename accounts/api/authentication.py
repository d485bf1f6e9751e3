"""The API's token authentication (accounts.tokens): ``Authorization: Token <secret>``.

Unknown, revoked and expired tokens get 401 saying which and what to do; a read-only token
gets 403 on any write except its own logout.
"""

from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from .. import tokens

READ_ONLY = "该令牌为只读令牌，不能新增、修改或删除数据；如需写入，请申请不带只读限制的令牌。"
# What a read-only token may still post: ending itself.
_READ_ONLY_WRITES = frozenset({"api-logout"})


class ApiTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        self._request = request
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        request = self._request
        try:
            token = tokens.authenticate(key, address=request.META.get("REMOTE_ADDR"))
        except tokens.Refused as refused:
            raise exceptions.AuthenticationFailed(str(refused)) from None
        if token.read_only and request.method not in SAFE_METHODS:
            match = getattr(request._request, "resolver_match", None)
            if match is None or match.url_name not in _READ_ONLY_WRITES:
                raise exceptions.PermissionDenied(READ_ONLY)
        return token.user, token
