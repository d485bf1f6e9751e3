"""Rate limits of the token endpoint: per account and per address.

One budget per account (scope ``auth``), whatever address it comes from, so that rotating
addresses buys no extra guesses; and a wider one per address (scope ``auth_address``), so that
one address cannot spray many accounts. Sync clients of several accounts behind one address
(a county's network) each keep their own account budget instead of sharing one.
"""

import hashlib

from rest_framework.throttling import SimpleRateThrottle


class TokenAddressThrottle(SimpleRateThrottle):
    scope = "auth_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenAccountThrottle(SimpleRateThrottle):
    scope = "auth"

    def get_cache_key(self, request, view):
        data = request.data
        username = data.get("username") if hasattr(data, "get") else None
        if username in (None, ""):
            # No account named: the request fails validation; the address budget counts it.
            return None
        # Hashed: a user name may hold characters a cache backend does not accept in keys.
        ident = hashlib.sha256(str(username).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
