"""Test settings: the real services named in the environment, SQLite and memory otherwise."""

import os
import tempfile
from pathlib import Path

from kongchuo.celery import task_queues

from .base import *  # noqa: F403

SECRET_KEY = "test-only-key-not-used-anywhere-else-0123456789abcdef"  # noqa: S105
DEBUG = False
FIELD_ENCRYPTION_KEYS = ["lChZd-IS_jQH4nSx12R-QlIEDuy7fLTi6GH22EQvLn8="]
LOOKUP_HASH_KEY = "zPJUpxZvypBzl1Qz5S7OykqbWgpvrOfJdv198IxnIMU="
# Hashing is still Django's; a cheap hasher keeps the suite fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BROKER_URL = os.environ.get("REDIS_URL") or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
# Parallel test processes (pytest-xdist) share one Redis: each sends its tasks to a queue of
# its own, so that one process's worker never runs a job of another process's database.
CELERY_TASK_DEFAULT_QUEUE = f"kongchuo-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
# The workloads' queues too (kongchuo.celery), under that name.
CELERY_QUEUE_PREFIX = f"{CELERY_TASK_DEFAULT_QUEUE}-"
CELERY_TASK_QUEUES = task_queues(CELERY_TASK_DEFAULT_QUEUE, CELERY_QUEUE_PREFIX)
# Reads stay on the primary unless a test switches replicas on (tests/kongchuo/test_replicas.py):
# a replica in CI would otherwise serve the suite's browser and worker tests, which read
# through connections the test's transaction does not cover.
DATABASE_REPLICA_READS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Throttling is tested on its own with a low rate; the rest of the suite logs in often.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"auth": "1000/min", "auth_address": "1000/min"},
}
# Static files come from the finders in tests; no collectstatic run is needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Result files of jobs run by tests go to a throw-away folder.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="kongchuo-test-media-"))
# Rate limits are tested on their own (tests/kongchuo/test_security.py switches them on with
# low rates); the rest of the suite searches and exports far more often than a person would.
RATELIMIT_ENABLE = False
# Two-factor login is required of nobody by default (the suite logs county accounts in with
# the password); tests/accounts/test_two_factor*.py switch the production roles on.
TWO_FACTOR_REQUIRED_ROLES = frozenset()
