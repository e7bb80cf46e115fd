"""fundmgr settings: one module, everything from the environment.

Defaults are safe for a developer's machine (SQLite file, eager Celery, console e-mail).
Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL;
see the configuration table in README.md. A bad value stops start-up with a clear message
instead of being silently replaced by a default.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
DEV_SECRET_KEY = "fundmgr-insecure-development-key-do-not-use-in-production"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# "Today" for every rule and deadline (see fundmgr.ground.lib.clock). Validated here so that a typo
# fails at start-up rather than at the first deadline computation.
FUNDMGR_BUSINESS_DATE = env.str("FUNDMGR_BUSINESS_DATE", default="") or None
if FUNDMGR_BUSINESS_DATE:
    try:
        dt.date.fromisoformat(FUNDMGR_BUSINESS_DATE)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"FUNDMGR_BUSINESS_DATE must be YYYY-MM-DD, got {FUNDMGR_BUSINESS_DATE!r}"
        ) from exc

INSTALLED_APPS = [
    # Django's admin on our own site class: regulators may sign in to read their city
    "fundmgr.ground.accounts.admin_apps.FundmgrAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_fsm",
    "django_fsm_log",
    "simple_history",
    "import_export",
    "django_celery_beat",
    "fundmgr.ground.lib",
    "fundmgr.ground.accounts",
    "fundmgr.ground.funds",
    "fundmgr.top.notifications",
    "fundmgr.top.reports",
    "fundmgr.top.workbench",
    "fundmgr.top.books",
    "fundmgr.top.forecast",
    "fundmgr.top.demo",
    "enterprises",
    "banks",
    "matching",
    "loans",
]

MIDDLEWARE = [
    "fundmgr.ground.lib.api.ApiResponseMiddleware",  # outermost: every /api/ error is problem+json
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into its page
]

ROOT_URLCONF = "fundmgr.urls"
WSGI_APPLICATION = "fundmgr.wsgi.application"
ASGI_APPLICATION = "fundmgr.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fundmgr" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Reports keep the figures of closed periods (month, quarter, year) ended in this many months
# back, so reading them again reads a few rows (reports.services.snapshots_refresh, nightly).
REPORT_SNAPSHOT_MONTHS = env.int("REPORT_SNAPSHOT_MONTHS", default=24)

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'fundmgr.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is for the demo and for quick local tests; wait rather than fail on a busy file.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # A kept connection is checked before a request reuses it: one the server closed (restart,
    # failover, idle timeout) is replaced instead of failing the request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: the app's queries are short (a report's grouped reads take tens of
    # milliseconds), and PostgreSQL's JIT spent more compiling them than it saved.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # The hot hand-written reads (lib.rawsql.cursor) run as prepared statements, planned once per
    # connection; off for a pooler that shares server sessions between clients (PgBouncer in
    # transaction mode without max_prepared_statements). The ORM's own queries are never prepared
    # (Django binds their parameters in the client).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
        DATABASES["default"]["OPTIONS"]["options"] += " -c plan_cache_mode=force_generic_plan"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "fundmgr" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Redis is optional: without it Celery runs tasks eagerly and the cache is per-process.
REDIS_URL = env.str("REDIS_URL", default="") or None
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="fundmgr <noreply@fundmgr.local>")

SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
DEADLINE_WARNING_WORKING_DAYS = env.int("DEADLINE_WARNING_WORKING_DAYS", default=2)
IDEMPOTENCY_KEY_TTL_DAYS = env.int("IDEMPOTENCY_KEY_TTL_DAYS", default=7)
# Uploaded books workbooks are kept this many days after upload, then deleted (their reports stay).
BOOKS_UPLOAD_RETENTION_DAYS = env.int("BOOKS_UPLOAD_RETENTION_DAYS", default=30)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG and env.bool("SECURE_COOKIES", default=True)
# Plain HTTP is redirected to HTTPS in production (off for a trial over HTTP, with
# SECURE_COOKIES=false too); the health endpoints answer the load balancer over either.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fundmgr.ground.accounts.authentication.ApiKeyAuthentication",
        "fundmgr.ground.accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["fundmgr.ground.accounts.permissions.IsPrincipal"],
    "DEFAULT_PAGINATION_CLASS": "fundmgr.ground.lib.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "fundmgr.ground.lib.api.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "fundmgr.ground.lib.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_THROTTLE_RATE", default="6000/hour")},
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "fundmgr API",
    "DESCRIPTION": "知识产权质押融资风险补偿资金管理系统 — partner-bank and regulator API (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "fundmgr.ground.lib.api.problem_schema_hook",
        "enterprises.api.schema.optional_enterprise_fields_hook",
    ],
    "ENUM_NAME_OVERRIDES": {
        "EnterpriseStatusEnum": "enterprises.models.Enterprise.Status",
        "IPAssetStatusEnum": "enterprises.models.IPAsset.Status",
        "IPKindEnum": "enterprises.models.IPAsset.Kind",
        "InstitutionStatusEnum": "banks.models.Institution.Status",
        "FindingStatusEnum": ["passed", "failed", "open"],
        "FilingStatusEnum": "loans.models.FilingStatus",
        "LoanStatusEnum": "loans.models.LoanStatus",
        "DocumentKindEnum": "loans.models.DocumentKind",
        "RiskClassEnum": "loans.models.RiskClass",
        "ClaimStatusEnum": "loans.models.ClaimStatus",
        "RecoveryStatusEnum": "loans.models.RecoveryStatus",
        "RecoverySourceEnum": "loans.models.Recovery.Source",
        "FinancingNeedStatusEnum": "matching.models.NeedStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before checking it
    "fundmgr.ground.accounts.backends.RoleBackend",
]

# Admin login lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user, or
# from one address, logins stop for LOGIN_LOCKOUT_MINUTES; a system administrator unlocks
# earlier by deleting the attempts in the admin (or `manage.py axes_reset`).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# The client's address: behind nginx the proxy's X-Forwarded-For, otherwise the socket's
# (a header a client sets itself must not choose whose counter it bumps).
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    if env.bool("BEHIND_TLS_PROXY", default=False)
    else ("REMOTE_ADDR",)
)

# Content-Security-Policy (django-csp): everything from this site only; inline styles are
# allowed (the admin and the dashboard's SVG charts use them), inline scripts are not, except
# on the API documentation pages, which need one (see fundmgr/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}
