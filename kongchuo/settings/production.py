"""Production: everything secret or site-specific must come from the environment.

It refuses to start rather than fall back to base.py's quick-start defaults: SQLite and the
file-system broker are for ``make run`` (kongchuo.settings.local) only.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from kongchuo import crypto

from .base import *  # noqa: F403
from .base import DATABASES, env_bool

_LOCAL_ONLY = "SQLite and the file-system broker are for `make run` (kongchuo.settings.local) only."


def _required(name: str, meaning: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: production settings need {meaning}.")
    return value


SECRET_KEY = _required("SECRET_KEY", "a secret key of their own (there is no default)")

# Encryption at rest (kongchuo.crypto): refuse to start without the keys, or with a malformed one.
_KEY_HELP = "(make one with `python manage.py rotate_keys --new-key`; README, 安全)"
FIELD_ENCRYPTION_KEYS = _required(
    "FIELD_ENCRYPTION_KEYS", f"the keys of the encrypted fields {_KEY_HELP}"
).split(",")
LOOKUP_HASH_KEY = _required("LOOKUP_HASH_KEY", f"the key of the ID look-up hashes {_KEY_HELP}")
try:
    crypto.parse_keys(",".join(FIELD_ENCRYPTION_KEYS), "FIELD_ENCRYPTION_KEYS")
    crypto.parse_key(LOOKUP_HASH_KEY, "LOOKUP_HASH_KEY")
except crypto.SealError as exc:
    raise ImproperlyConfigured(str(exc)) from None

_required(
    "DATABASE_URL",
    f"a PostgreSQL database, e.g. postgres://user:pass@host:5432/kongchuo. {_LOCAL_ONLY}",
)
_ENGINE = DATABASES["default"]["ENGINE"]
if not _ENGINE.endswith(("postgresql", "postgis")):
    raise ImproperlyConfigured(
        f"DATABASE_URL must point at PostgreSQL (postgres://…) in production, not {_ENGINE}. "
        f"{_LOCAL_ONLY}"
    )

REDIS_URL = _required(
    "REDIS_URL", f"a Redis server as Celery broker, e.g. redis://host:6379/0. {_LOCAL_ONLY}"
)
if not REDIS_URL.startswith(("redis://", "rediss://", "redis+socket://")):
    raise ImproperlyConfigured(
        f"REDIS_URL must be a redis:// or rediss:// URL in production. {_LOCAL_ONLY}"
    )
CELERY_BROKER_URL = REDIS_URL
# Shared by every gunicorn worker: DRF keeps the token endpoint's rate-limit history in the
# default cache, and a per-process cache would give each worker a budget of its own.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "kongchuo",
    }
}

DEBUG = env_bool("DEBUG", False)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
