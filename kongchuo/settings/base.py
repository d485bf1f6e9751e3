"""Settings shared by every environment; each value that differs comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from kongchuo.celery import task_queues

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("KONGCHUO_DATA_DIR", BASE_DIR / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# A failed CSRF check is a page in Chinese in the site's layout, not Django's English one.
CSRF_FAILURE_VIEW = "kongchuo.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "students",
    "ledger",
    "attendance",
    "returns",
    "comparisons",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "kongchuo.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "kongchuo.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kongchuo.offline.WipeOnDeactivationMiddleware",
    "kongchuo.ratelimits.RateLimitMiddleware",
    "kongchuo.middleware.DenyByDefaultMiddleware",
    "accounts.middleware.RequestContextMiddleware",
    "kongchuo.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Innermost: the page it puts in place of an empty 405 still passes through the others.
    "kongchuo.middleware.MethodNotAllowedPageMiddleware",
]

# Headers: scripts only from this site (no inline script, no eval); styles may be inline (a
# few style attributes and the charts' own); nothing may frame the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The browser features no page uses are switched off for every page.
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)

# The header the TLS proxy puts the client's address in (kongchuo.middleware), if any.
CLIENT_ADDRESS_HEADER = os.environ.get("CLIENT_ADDRESS_HEADER", "")

# Rate limits (kongchuo.ratelimits), per account and per address, counted in the cache.
RATELIMIT_LOGIN_ADDRESS = os.environ.get("RATELIMIT_LOGIN_ADDRESS", "30/10m")
RATELIMIT_SEARCH_ACCOUNT = os.environ.get("RATELIMIT_SEARCH_ACCOUNT", "120/m")
RATELIMIT_SEARCH_ADDRESS = os.environ.get("RATELIMIT_SEARCH_ADDRESS", "600/m")
RATELIMIT_EXPORT_ACCOUNT = os.environ.get("RATELIMIT_EXPORT_ACCOUNT", "20/10m")
RATELIMIT_EXPORT_ADDRESS = os.environ.get("RATELIMIT_EXPORT_ADDRESS", "100/10m")
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)

# How long a background job's result file (an export, an annotated import) is kept, and an
# upload left waiting (accounts.jobs.purge_expired, nightly).
JOB_FILE_DAYS = int(os.environ.get("JOB_FILE_DAYS", "7"))
UPLOAD_FILE_HOURS = int(os.environ.get("UPLOAD_FILE_HOURS", "24"))

# Backups (manage.py backup / restore): where they go and how many are kept.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", DATA_DIR / "backups"))
BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))

# The health endpoint (/health/): a worker's heartbeat older than this is "failed".
HEALTH_HEARTBEAT_SECONDS = int(os.environ.get("HEALTH_HEARTBEAT_SECONDS", "180"))
HEALTH_BROKER_TIMEOUT = float(os.environ.get("HEALTH_BROKER_TIMEOUT", "2"))

ROOT_URLCONF = "kongchuo.urls"
WSGI_APPLICATION = "kongchuo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
            "builtins": ["accounts.templatetags.permissions"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'kongchuo.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
# Read replicas (kongchuo.replicas, issue 19 §3): DATABASE_REPLICA_URLS, comma-separated
# streaming replicas of DATABASE_URL's primary, become the aliases "replica", "replica2", …
# Only the reads inside kongchuo.replicas.reading() blocks go there. In tests a replica is a
# mirror of the primary's test database, which it receives by replication like any other.
DATABASE_ROUTERS = ["kongchuo.replicas.ReplicaRouter"]
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS", ""), start=1):
    _replica = dj_database_url.parse(
        _url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60"))
    )
    _engines = (_replica["ENGINE"], DATABASES["default"]["ENGINE"])
    if not all(engine.endswith("postgresql") for engine in _engines):
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URLS must be PostgreSQL streaming replicas of a PostgreSQL "
            "DATABASE_URL."
        )
    # The replicas serve the reporting aggregates, which JIT slows (reports/indicators.py).
    # A replica that is away is found out in seconds, not at the TCP timeout.
    _replica["OPTIONS"] = {
        "connect_timeout": 3,
        **_replica.get("OPTIONS", {}),
        "options": "-c jit=off",
    }
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica" if _number == 1 else f"replica{_number}"] = _replica
# Reads may go to a replica at all (tests switch it on where they show it), and how long a
# block waits for a replica to replay the primary's latest writes before reading the primary.
DATABASE_REPLICA_READS = env_bool("DATABASE_REPLICA_READS", True)
DATABASE_REPLICA_WAIT = float(os.environ.get("DATABASE_REPLICA_WAIT", "0.5"))
# Bookkeeping written while a block reads (progress, audit): always read from the primary,
# and writing it does not send the rest of the block to the primary.
DATABASE_REPLICA_PRIMARY_MODELS = frozenset(
    {"accounts.job", "accounts.auditevent", "accounts.auditseal", "comparisons.run"}
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 idle minutes: every request pushes the expiry forward.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout after 5 failures counted per account, whatever address they come from.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
# axes.W006 asks to lock by address too. The rule here is per account across addresses, so
# that rotating addresses cannot buy more guesses; address-based limits come from throttling.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# API tokens (accounts.tokens): one per client, valid this many days unless asked for fewer.
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "365"))

# Two-factor login (accounts.two_factor): the roles that must use it. The local quick start
# (DEBUG) requires it of nobody, so that the demo accounts log in with the password alone;
# anyone may still switch it on. Production: county administrators and county staff.
TWO_FACTOR_REQUIRED_ROLES = frozenset(
    env_list("TWO_FACTOR_REQUIRED_ROLES", "" if DEBUG else "county_admin,county_staff")
)
# How long the step between the password and the code may take.
TWO_FACTOR_PENDING_SECONDS = 5 * 60
OTP_TOTP_ISSUER = "控辍保学台账"

# The UI is Simplified Chinese whatever the browser asks for.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "kongchuo.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # drf-spectacular's, plus the error answers of every operation.
    "DEFAULT_SCHEMA_CLASS": "kongchuo.schema.AutoSchema",
    "EXCEPTION_HANDLER": "kongchuo.api.exception_handler",
    # Look-ups and exports per account and per address (kongchuo.ratelimits).
    "DEFAULT_THROTTLE_CLASSES": ["kongchuo.ratelimits.ApiRateLimit"],
    # The address is REMOTE_ADDR (set from the proxy's header by ClientAddressMiddleware),
    # never an X-Forwarded-For a client could write itself.
    "NUM_PROXIES": 0,
    # The token endpoint (accounts.api.throttles): per account, and wider per address.
    "DEFAULT_THROTTLE_RATES": {
        "auth": os.environ.get("AUTH_THROTTLE_RATE", "10/min"),
        "auth_address": os.environ.get("AUTH_ADDRESS_THROTTLE_RATE", "60/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "控辍保学台账 API",
    "DESCRIPTION": "供其他政务系统同步数据的接口。所有数据按令牌所属账号的管辖范围返回。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name ("kind", "status") get their own schema names.
    "ENUM_NAME_OVERRIDES": {
        "SchoolKindEnum": "accounts.choices.SchoolKind",
        "EventKindEnum": "students.choices.EventKind",
        "StudentStatusEnum": "students.choices.Status",
        "TransferStatusEnum": "students.choices.TransferStatus",
        "EntryKindEnum": "ledger.choices.EntryKind",
        # One name per ledger choice set that several fields share (reason and other
        # reasons, state before and after, a timeline action and the actions on offer).
        "ReasonEnum": "ledger.choices.Reason",
        "EntryStateEnum": "ledger.choices.State",
        "EntryActionEnum": "ledger.choices.Action",
        # The same for a 劝返 case's (state, step and action before and after, on offer).
        "CaseStateEnum": "returns.choices.CaseState",
        "CaseStepEnum": "returns.choices.Step",
        "CaseActionEnum": "returns.choices.Action",
        "DocumentTypeEnum": "returns.choices.DocumentType",
        # The comparisons' (a list's kind and a run's status beside other apps' kind and status).
        "SourceKindEnum": "comparisons.choices.SourceKind",
        "RunStatusEnum": "comparisons.choices.RunStatus",
        "MismatchKindEnum": "comparisons.choices.MismatchKind",
    },
}

# Plausible ages (周岁, both ends included) of a pupil on 1 September of the current school
# year; outside them the birth date is mistyped (born 1949 in grade 1) and the record is
# refused on the page, the API and the import (students.services.check_age). A child who is 6
# by 31 August enters grade 1 (DOMAIN.md §3), and one who turns 6 later that autumn may enter
# early, at 5. Grade 9 is normally 14; late entry, repeated years and special education
# (送教上门, which follows disabled children beyond the usual age) leave some pupils up to a
# few years older, so the upper end is 20, not the ledger's 16.
STUDENT_AGE_RANGE = (5, 20)

# 劝返 cases (DOMAIN.md §7, §9; issue 12). Reminders: an instruction not signed for within
# RETURNS_ACK_DAYS, a 责令改正 deadline within RETURNS_DEADLINE_NEAR_DAYS, no action logged for
# RETURNS_IDLE_DAYS.
RETURNS_ACK_DAYS = 2
RETURNS_DEADLINE_NEAR_DAYS = 3
RETURNS_IDLE_DAYS = 14
# A returned child is followed for this many school days; one unexcused absence alerts the team.
RETURNS_FOLLOW_UP_SCHOOL_DAYS = 40
# Suggested grade on return by months out of school: under 3 months the same grade, under 12
# one lower; longer, by age and an assessment (no suggestion).
RETURNS_GRADE_BY_MONTHS = ((3, 0), (12, 1))
# 延缓入学/休学 only after all four steps, or this many 联合劝返, or a court ruling with the
# guardian's duty done (003, 004); a province that drops a ground sets it to False / None.
RETURNS_DEFER_AFTER_ALL_STEPS = True
RETURNS_DEFER_JOINT_ACTIONS = 3
RETURNS_DEFER_COURT_RULING = True
RETURNS_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

# Comparisons (比对, issue 13): 在籍不在校 is a student on a roll with no presence on this many
# of the class's recorded school days in a row.
COMPARISON_ABSENT_SCHOOL_DAYS = int(os.environ.get("COMPARISON_ABSENT_SCHOOL_DAYS", "10"))

# Reports' reminders (issue 14): the schools whose ledger entries are not yet classified this
# term are reminded in the last REPORTS_TERM_NOTICE_DAYS days of the classification month.
REPORTS_TERM_NOTICE_DAYS = 7

# Encryption at rest (issue 15 §3, kongchuo.crypto): keys of their own, apart from SECRET_KEY.
# FIELD_ENCRYPTION_KEYS: comma-separated, the first seals new values, all open old ones.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", "")
LOOKUP_HASH_KEY = os.environ.get("LOOKUP_HASH_KEY", "")

CELERY_BROKER_URL = os.environ.get("REDIS_URL") or "filesystem://"
# Queues per workload (issue 19 §4): kongchuo.celery.WORKLOADS names each task's queue.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_QUEUE_PREFIX = ""
CELERY_TASK_QUEUES = task_queues(CELERY_TASK_DEFAULT_QUEUE, CELERY_QUEUE_PREFIX)
CELERY_TASK_ROUTES = ["kongchuo.celery.route"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # The health endpoint's proof that a worker (and beat) are running.
    "worker-heartbeat": {
        "task": "accounts.tasks.heartbeat",
        "schedule": 60.0,
    },
    # The audit trail's hash chain (accounts.audit_chain), a minute behind the writers.
    "seal-audit": {
        "task": "accounts.tasks.seal_audit",
        "schedule": 60.0,
    },
    # Export and result files past JOB_FILE_DAYS, uploads left waiting (issue 15 §6).
    "purge-expired-files": {
        "task": "accounts.tasks.purge_expired_files",
        "schedule": crontab(minute=45, hour=2),
    },
    # The next school year's and month's partitions (kongchuo.partitions), well ahead.
    "create-partitions": {
        "task": "accounts.tasks.create_partitions",
        "schedule": crontab(minute=5, hour=0),
    },
    "purge-expired-sessions": {
        "task": "accounts.tasks.purge_expired_sessions",
        "schedule": crontab(minute=15, hour=2),
    },
    "ledger-consistency-check": {
        "task": "ledger.tasks.consistency_check",
        "schedule": crontab(minute=30, hour=1),
    },
    # After the roll's cut-off (18:00 by default), so that principal and township hear of a
    # 疑似辍学 the same day.
    "attendance-rule": {
        "task": "attendance.tasks.attendance_rule",
        "schedule": crontab(minute=30, hour=20),
    },
    "term-start-no-shows": {
        "task": "attendance.tasks.term_start_no_shows",
        "schedule": crontab(minute=0, hour=19),
    },
    # After the attendance rule: the watch list (重点监测) from the day's rolls; on Mondays
    # the principals' weekly digest of it.
    "watch-list": {
        "task": "attendance.tasks.watch_list",
        "schedule": crontab(minute=0, hour=21),
    },
    "watch-digest": {
        "task": "attendance.tasks.watch_digest",
        "schedule": crontab(minute=30, hour=7, day_of_week=1),
    },
    # Morning, so that a township official sees the day's 劝返 reminders at work.
    "return-case-reminders": {
        "task": "returns.tasks.reminders",
        "schedule": crontab(minute=0, hour=7),
    },
    # The monthly comparisons of each county's latest lists (a task per county, a run per list).
    "comparisons-monthly": {
        "task": "comparisons.tasks.monthly",
        "schedule": crontab(minute=0, hour=3, day_of_month=1),
    },
    # Morning: the reporting calendar's reminders due today (monthly report, 四个一
    # sign-offs, term start, the April–August enrolment calendar); a second run sends nothing.
    "report-reminders": {
        "task": "reports.tasks.reminders",
        "schedule": crontab(minute=30, hour=7),
    },
}
if CELERY_BROKER_URL == "filesystem://":
    BROKER_DIR = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Exchange tables too, not a control/ folder in whatever directory the worker runs.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }

# Notification e-mail. Locally printed to the console; production names the SMTP backend and
# server here. Tests always use Django's in-memory backend.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
# The address users reach the site at (https://kzbx.example.gov.cn), for links in e-mails.
KONGCHUO_SITE_URL = os.environ.get("KONGCHUO_SITE_URL", "")
# How long a city's or a province's home page counts are kept (accounts.home.today_work).
HOME_CACHE_SECONDS = int(os.environ.get("HOME_CACHE_SECONDS", "300"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "控辍保学台账 <noreply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "kongchuo.logging.RedactPersonalData"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Offline roll (issue 17): a roll taken on a phone without signal counts at the phone's time
# for the cut-off if it reaches the server within this many days of that day (0: the same
# day); later it follows the normal late-change rule.
ATTENDANCE_OFFLINE_GRACE_DAYS = 0
