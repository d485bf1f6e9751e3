"""Quick start on one machine: SQLite, a broker on the file system, no other server."""

import os

os.environ.setdefault("DEBUG", "1")

from .base import *  # noqa: E402,F403
from .base import DATA_DIR, env_bool, env_list  # noqa: E402

DEBUG = env_bool("DEBUG", True)
# A development key, only ever used by the local quick start; production.py has no default.
SECRET_KEY = os.environ.get("SECRET_KEY", "local-only-insecure-key-kongchuo-quick-start")  # noqa: S105
# Development keys for the encrypted fields, as public as the key above; production.py has none.
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS", "mo8aeK-geMALsopLAbKtWAlHYxRmgf44Wv9sVvJUT5Q="
)
LOOKUP_HASH_KEY = os.environ.get("LOOKUP_HASH_KEY", "vkV3prw3MrPCz7IxGoU4csClX5BuP9dzvdC6O8myRY4=")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
for folder in (DATA_DIR, DATA_DIR / "broker" / "processed"):
    folder.mkdir(parents=True, exist_ok=True)
