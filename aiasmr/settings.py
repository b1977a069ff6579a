"""Settings for aiasmr: one module, every knob an environment variable with a safe development default.

Production mode (DJANGO_ENV=production) refuses to start without a real secret key, allowed hosts,
a database URL and storage settings. `.env.example` documents every variable.
"""

import hashlib
import importlib.util
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DJANGO_ENV = env("DJANGO_ENV", "development")
IS_PRODUCTION = DJANGO_ENV == "production"
TESTING = "pytest" in sys.modules or env_bool("TESTING")
VERSION = "1.0.0"

DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG_MODE", False) and not IS_PRODUCTION
PORT = env_int("PORT", 8000)
BASE_URL = env("BASE_URL", f"http://localhost:{PORT}").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if IS_PRODUCTION else "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "" if IS_PRODUCTION else BASE_URL)

# --- Applications -------------------------------------------------------------------------------

INSTALLED_APPS = [
    "aiasmr.backoffice.apps.BackofficeAdminConfig",  # django.contrib.admin with the back office site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "storages",
    "aiasmr",
    "accounts",
    "credits",
    "rewards",  # free credits: check-in and referrals (above credits, below billing)
    "billing",
    "videos",
    "aiasmr.lifecycle",  # top layer: registration, deletion and statistics across the apps; the User admin
    "supabase_import",  # top layer: imports every app (manage.py import_supabase)
]
# Development-only tools (the fake KIE server, `manage.py fake_kie`): never in production, and absent
# from the production image.
if not IS_PRODUCTION and importlib.util.find_spec("devtools") is not None:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "aiasmr.api.middleware.RequestIdMiddleware",
    "aiasmr.api.trailing_slash.TrailingSlashMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "aiasmr.api.middleware.ApiRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "aiasmr.urls"
WSGI_APPLICATION = "aiasmr.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "aiasmr" / "templates"],
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

# --- Database -----------------------------------------------------------------------------------

DATABASE_URL = env("DATABASE_URL")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections with a health check before reuse: a restarted PostgreSQL is
        # reconnected to on the next request instead of failing until the process restarts.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the task worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# --- Cache (shared rate-limit counters) ---------------------------------------------------------

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis keeps one client per pool, and its incr is one atomic EVAL that only counts
            # an existing key (so a rate-limit counter never outlives its window without an expiry).
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "aiasmr"),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "aiasmr"}}

# --- Storage (local files by default, Cloudflare R2 through the S3 API when configured) ----------

MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_URL = "/static/"

R2_ACCOUNT_ID = env("R2_ACCOUNT_ID")
R2_ACCESS_KEY_ID = env("R2_ACCESS_KEY_ID")
R2_SECRET_ACCESS_KEY = env("R2_SECRET_ACCESS_KEY")
R2_BUCKET_NAME = env("R2_BUCKET_NAME")
R2_ENDPOINT = env("R2_ENDPOINT") or (
    f"https://{R2_ACCOUNT_ID}.r2.cloudflarestorage.com" if R2_ACCOUNT_ID else ""
)
R2_PUBLIC_DOMAIN = env("R2_PUBLIC_DOMAIN")
R2_URL_EXPIRY_SECONDS = env_int("R2_URL_EXPIRY_SECONDS", 3600)
USE_R2 = bool(R2_BUCKET_NAME and R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY and R2_ENDPOINT)

if USE_R2:
    default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": R2_BUCKET_NAME,
            "endpoint_url": R2_ENDPOINT,
            "access_key": R2_ACCESS_KEY_ID,
            "secret_key": R2_SECRET_ACCESS_KEY,
            "region_name": env("R2_REGION", "auto"),
            "signature_version": "s3v4",
            "addressing_style": env("R2_ADDRESSING_STYLE", "path"),
            "default_acl": None,
            "file_overwrite": True,
            # Signed, expiring URLs for a private bucket, unless a public domain fronts it.
            "querystring_auth": not R2_PUBLIC_DOMAIN,
            "querystring_expire": R2_URL_EXPIRY_SECONDS,
            "custom_domain": R2_PUBLIC_DOMAIN or None,
        },
    }
else:
    default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": f"{BASE_URL}{MEDIA_URL}"},
    }
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve local media from the app only when storage is local (development and `make run`).
SERVE_LOCAL_MEDIA = not USE_R2

# --- Auth ---------------------------------------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing cost is not under test; keep the suite fast. Argon2 stays the production hasher.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

JWT_SECRET = env("JWT_SECRET", SECRET_KEY)
# The Express backend's JWT_SECRET: its 7-day tokens ({id, email, iat, exp}, HS256) still sign their
# users in until they expire (accounts.tokens). Empty: they are refused. Read at request time.
LEGACY_JWT_SECRET = env("LEGACY_JWT_SECRET")
# A rotated refresh token used again within this many seconds (two refreshes fired at once by one app)
# gets a fresh pair of the same family; later, the reuse signs out that family (one device).
JWT_REFRESH_REUSE_GRACE_SECONDS = env_int("JWT_REFRESH_REUSE_GRACE_SECONDS", 30)
SIMPLE_JWT = {
    # 7 days, as Express's tokens: an Express-era app refreshes only when it chooses to (README, "Sessions
    # and tokens": revocation stays immediate through the per-request token-version check).
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 7 * 24 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": JWT_SECRET,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- REST framework and OpenAPI -----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["aiasmr.api.renderers.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": ["aiasmr.api.parsers.SafeJSONParser"],
    "EXCEPTION_HANDLER": "aiasmr.api.error_handler.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "aiasmr.api.schema.EnvelopeAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "aiasmr API",
    "DESCRIPTION": (
        "The mobile API of the AI ASMR video app. Every success is wrapped as "
        '`{"success": true, "data": ..., "message": ...}` and every error as '
        '`{"success": false, "error": {"code", "message", "details"}}`.'
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    # Assets served by the project itself: the docs work offline and under a strict CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DISABLE_ERRORS_AND_WARNINGS": not DEBUG,
}

# --- Rate limits (count/period; shared cache) ---------------------------------------------------

RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_USE_CACHE = "default"
# A cache outage lets requests through (logged) instead of refusing every request.
RATELIMIT_FAIL_OPEN = env_bool("RATELIMIT_FAIL_OPEN", True)
RATE_LIMITS = {
    "api": env("RATE_LIMIT_API", "100/m"),
    "auth": env("RATE_LIMIT_AUTH", "10/h"),
    "generate": env("RATE_LIMIT_GENERATE", "5/h"),
    "purchase": env("RATE_LIMIT_PURCHASE", "10/d"),
    "sensitive": env("RATE_LIMIT_SENSITIVE", "3/15m"),
}
# Number of reverse proxies in front of the service whose X-Forwarded-For entries are trusted.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# django-ratelimit wants a shared cache; locmem is shared within the one `make run` process.
SILENCED_SYSTEM_CHECKS = [] if REDIS_URL else ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Request limits -----------------------------------------------------------------------------

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
MAX_JSON_DEPTH = env_int("MAX_JSON_DEPTH", 20)

# --- Security -----------------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^api/health"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
]

# Content-Security-Policy for the HTML pages (admin, API docs); JSON responses need none.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:"],
        "media-src": ["'self'", "blob:", "https:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

ADMIN_URL = env("ADMIN_URL", "admin/").strip("/") + "/"

# --- Back office (admin dashboard) ---------------------------------------------------------------

# An open generation unchanged for this long counts as stuck on the dashboard.
BACKOFFICE_STUCK_MINUTES = env_int("BACKOFFICE_STUCK_MINUTES", 30)
# The dashboard and the detailed health ask KIE for its remaining credits with this short timeout (seconds).
KIE_ACCOUNT_TIMEOUT_SECONDS = float(env("KIE_ACCOUNT_TIMEOUT_SECONDS", "3"))

# --- Internationalisation -----------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Background tasks (database backend: enqueueing commits with the data) ----------------------

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
if env_bool("TASKS_IMMEDIATE", False):
    TASKS["default"] = {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}

# --- Business knobs (business-rules.md) ---------------------------------------------------------

SIGNUP_BONUS_CREDITS = env_int("SIGNUP_BONUS_CREDITS", 20)
# Free credits (rewards): the most referral credits one referrer earns in a calendar month (against farming),
# and the share link of a referral code ({code} is replaced).
REFERRAL_MONTHLY_CAP_CREDITS = env_int("REFERRAL_MONTHLY_CAP_CREDITS", 500)
REFERRAL_LINK_TEMPLATE = env("REFERRAL_LINK_TEMPLATE", f"{BASE_URL}/invite?ref={{code}}")

# --- Payments (billing) -------------------------------------------------------------------------

# "stripe" (PaymentIntents for the mobile SDK) or "sandbox" (development and tests only).
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", "stripe" if IS_PRODUCTION else "sandbox").strip().lower()
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
STRIPE_API_TIMEOUT_SECONDS = env_int("STRIPE_API_TIMEOUT_SECONDS", 10)
# A signed webhook older than this is refused (replay protection).
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env_int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300)
SANDBOX_WEBHOOK_SECRET = env("SANDBOX_WEBHOOK_SECRET", "whsec_sandbox_development_only")
# The sandbox provider and its confirm endpoint exist only outside production.
SANDBOX_PAYMENTS_ENABLED = not IS_PRODUCTION
# A one-off trial plan lasts this long; a lapsed paid period is kept this long before expiring.
TRIAL_PERIOD_DAYS = env_int("TRIAL_PERIOD_DAYS", 7)
SUBSCRIPTION_GRACE_HOURS = env_int("SUBSCRIPTION_GRACE_HOURS", 48)

# In-app purchases (billing.stores). Unset: that store's endpoints answer 503 STORE_NOT_CONFIGURED.
# App Store: signed transactions and notifications are verified against these root certificates (Apple Root
# CA - G3 from https://www.apple.com/certificateauthority/; comma-separated paths, DER or PEM).
APPLE_BUNDLE_ID = env("APPLE_BUNDLE_ID")
APPLE_APP_APPLE_ID = env("APPLE_APP_APPLE_ID")  # the app's numeric Apple ID; required in Production
APPLE_ENVIRONMENT = env("APPLE_ENVIRONMENT", "Production" if IS_PRODUCTION else "Sandbox")
APPLE_ROOT_CERTIFICATES = env_list("APPLE_ROOT_CERTIFICATES")
APPLE_ONLINE_CHECKS = env_bool("APPLE_ONLINE_CHECKS", True)  # OCSP revocation checks of the signing chain
# App Store Server API key (App Store Connect > Users and Access > Integrations), used by store_reconcile.
APPLE_API_KEY_ID = env("APPLE_API_KEY_ID")
APPLE_API_ISSUER_ID = env("APPLE_API_ISSUER_ID")
APPLE_API_PRIVATE_KEY_FILE = env("APPLE_API_PRIVATE_KEY_FILE")
# Google Play: the Play Developer API with a service account granted "View financial data" and "Manage orders".
GOOGLE_PLAY_PACKAGE_NAME = env("GOOGLE_PLAY_PACKAGE_NAME")
GOOGLE_PLAY_SERVICE_ACCOUNT_FILE = env("GOOGLE_PLAY_SERVICE_ACCOUNT_FILE")
GOOGLE_PLAY_API_ENDPOINT = env("GOOGLE_PLAY_API_ENDPOINT")  # empty: Google's; tests point it at a fake
GOOGLE_PLAY_TIMEOUT_SECONDS = env_int("GOOGLE_PLAY_TIMEOUT_SECONDS", 10)
# Real-time developer notifications: the Pub/Sub push subscription's OIDC token must carry this audience and
# be issued to this service account.
GOOGLE_PUBSUB_AUDIENCE = env("GOOGLE_PUBSUB_AUDIENCE")
GOOGLE_PUBSUB_SERVICE_ACCOUNT = env("GOOGLE_PUBSUB_SERVICE_ACCOUNT")
GOOGLE_PUBSUB_CERTS_URL = env("GOOGLE_PUBSUB_CERTS_URL", "https://www.googleapis.com/oauth2/v1/certs")
# store_reconcile re-checks store purchases this recent.
STORE_RECONCILE_DAYS = env_int("STORE_RECONCILE_DAYS", 30)

# --- KIE ----------------------------------------------------------------------------------------

KIE_API_KEY = env("KIE_API_KEY")
KIE_BASE_URL = env("KIE_BASE_URL", "https://api.kie.ai/api/v1").rstrip("/")
CALLBACK_URL = env("CALLBACK_URL", f"{BASE_URL}/api/kie-callback")

# --- KIE / generation (videos app) ----------------------------------------------------------------

# The secret carried in the callback URL (?secret=...); derived from SECRET_KEY unless set.
KIE_CALLBACK_SECRET = env("KIE_CALLBACK_SECRET") or hashlib.sha256(
    f"kie-callback:{SECRET_KEY}".encode()
).hexdigest()[:40]
# KIE's webhook HMAC key (KIE dashboard); when set, callbacks must carry a valid signature.
KIE_WEBHOOK_HMAC_KEY = env("KIE_WEBHOOK_HMAC_KEY")
KIE_WEBHOOK_TOLERANCE_SECONDS = env_int("KIE_WEBHOOK_TOLERANCE_SECONDS", 300)
KIE_LONG_DURATION = env_int("KIE_LONG_DURATION", 8)  # KIE's docs say 8 in one place, 10 in another
# host[:port] entries whose file URLs a callback may name directly; others are confirmed by record-detail.
KIE_FILE_HOSTS = env_list("KIE_FILE_HOSTS")
KIE_CONNECT_TIMEOUT = float(env("KIE_CONNECT_TIMEOUT", "5"))
KIE_READ_TIMEOUT = float(env("KIE_READ_TIMEOUT", "30"))
KIE_DOWNLOAD_TIMEOUT_SECONDS = env_int("KIE_DOWNLOAD_TIMEOUT_SECONDS", 300)  # whole download
KIE_MEDIA_MAX_BYTES = env_int("KIE_MEDIA_MAX_BYTES", 200 * 1024 * 1024)
KIE_PROMPT_MAX_CHARS = 1800
# Credits by "<duration>:<quality>" (a long duration is keyed as 8); a missing pair is not offered.
GENERATION_COSTS = (
    json.loads(env("GENERATION_COSTS"))
    if env("GENERATION_COSTS")
    else {"5:720p": 20, "5:1080p": 25, "8:720p": 30}
)
GENERATION_ESTIMATED_SECONDS = env_int("GENERATION_ESTIMATED_SECONDS", 120)
GENERATION_SUBMIT_MAX_ATTEMPTS = env_int("GENERATION_SUBMIT_MAX_ATTEMPTS", 5)  # 429/455/unreachable
GENERATION_COPY_MAX_ATTEMPTS = env_int("GENERATION_COPY_MAX_ATTEMPTS", 8)
GENERATION_RETRY_BASE_SECONDS = float(env("GENERATION_RETRY_BASE_SECONDS", "5"))
GENERATION_RETRY_MAX_SECONDS = float(env("GENERATION_RETRY_MAX_SECONDS", "600"))
GENERATION_COPY_LEASE_SECONDS = env_int("GENERATION_COPY_LEASE_SECONDS", 900)
# The status endpoint asks KIE's record when a job has had no news for this long (and at most this often).
GENERATION_STATUS_REFRESH_SECONDS = env_int("GENERATION_STATUS_REFRESH_SECONDS", 5)
# The sweep (manage.py generations_sync): poll jobs without a callback for this long ...
GENERATION_CALLBACK_GRACE_SECONDS = env_int("GENERATION_CALLBACK_GRACE_SECONDS", 120)
# ... fail and refund jobs unsettled after this long, or whose submission outcome stayed unknown ...
GENERATION_DEADLINE_SECONDS = env_int("GENERATION_DEADLINE_SECONDS", 3600)
GENERATION_SUBMIT_UNKNOWN_SECONDS = env_int("GENERATION_SUBMIT_UNKNOWN_SECONDS", 900)
# ... re-queue queued jobs and copies with no progress for this long; fail copies stuck past the last.
GENERATION_STALE_SECONDS = env_int("GENERATION_STALE_SECONDS", 300)
GENERATION_STORING_DEADLINE_SECONDS = env_int("GENERATION_STORING_DEADLINE_SECONDS", 3 * 24 * 3600)
# One OpenAPI name for the 720p/1080p choice (generation quality, preferred resolution).
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["VideoQualityEnum"] = "videos.serializers.QUALITIES"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["PreferredDurationEnum"] = "accounts.serializers.PREFERRED_DURATIONS"

# --- Logging ------------------------------------------------------------------------------------

LOG_LEVEL = env("LOG_LEVEL", "info").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "aiasmr.api.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # The access log line replaces Django's own 4xx/5xx request warnings.
        "django.request": {"level": "CRITICAL"},
        "botocore": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# --- Production guard ---------------------------------------------------------------------------

if IS_PRODUCTION:
    problems = []
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY (at least 50 random characters)")
    if not env("JWT_SECRET") or JWT_SECRET == DEV_SECRET_KEY or len(JWT_SECRET) < 32:
        problems.append("JWT_SECRET (at least 32 random characters)")
    if LEGACY_JWT_SECRET and LEGACY_JWT_SECRET == JWT_SECRET:
        problems.append("LEGACY_JWT_SECRET different from JWT_SECRET (Express's secret, not this service's)")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS (explicit host names)")
    if not DATABASE_URL:
        problems.append("DATABASE_URL")
    if not USE_R2 and not env_bool("ALLOW_LOCAL_STORAGE"):
        problems.append("R2_* storage settings")
    if PAYMENT_PROVIDER != "stripe":
        problems.append("PAYMENT_PROVIDER=stripe (the sandbox provider is refused in production)")
    elif not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET and STRIPE_PUBLISHABLE_KEY):
        problems.append("STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET")
    if problems:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production refuses to start without: " + ", ".join(problems)
        )

# A ready task older than this means no worker is taking work (detailed health).
WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 300)

# The apps' checks in /api/health/detailed, after database, cache and storage and before the worker's
# (dotted paths: aiasmr.api is framework glue and imports no app). Each returns details or raises.
HEALTH_APP_CHECKS = {"kie": "videos.health.check_kie"}
