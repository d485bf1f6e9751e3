"""Quick start on one machine: SQLite, a broker on the file system, no other server."""

import os

os.environ.setdefault("DEBUG", "1")

from .base import *  # noqa: E402,F403
from .base import DATA_DIR, env_bool  # noqa: E402

DEBUG = env_bool("DEBUG", True)
# A development key, only ever used by the local quick start; production.py has no default.
SECRET_KEY = os.environ.get("SECRET_KEY", "local-only-insecure-key-kongchuo-quick-start")  # noqa: S105
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
for folder in (DATA_DIR, DATA_DIR / "broker" / "processed"):
    folder.mkdir(parents=True, exist_ok=True)
