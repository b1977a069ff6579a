"""Settings for aiasmr, the framework and the service: every knob an environment variable with a safe
development default.

Production mode (DJANGO_ENV=production) refuses to start without a real secret key, allowed hosts,
a database URL and storage settings. `.env.example` documents every variable.
"""

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path

from aiasmr.config.backends import cache_settings, database_settings, r2_storage
from aiasmr.config.env import env, env_bool, env_int, env_list
from aiasmr.config.logs import logging_settings
from aiasmr.config.openapi import openapi_settings
from aiasmr.config.security import CONTENT_SECURITY_POLICY, CORS_ALLOW_HEADERS  # noqa: F401 (settings)
from aiasmr.config.templates import template_settings

BASE_DIR = Path(__file__).resolve().parents[2]


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
    "axes",  # admin sign-in attempts, lockouts and their unlock (AXES_* below)
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
    "aiasmr.api.metrics.RequestMetricsMiddleware",
    "aiasmr.api.middleware.RequestIdMiddleware",
    "aiasmr.api.middleware.NoStoreMiddleware",
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
    # Last, as django-axes requires: answers a locked-out admin sign-in with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aiasmr.urls"
WSGI_APPLICATION = "aiasmr.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
APPEND_SLASH = False

TEMPLATES = template_settings(base_dir=BASE_DIR)

# --- Database -----------------------------------------------------------------------------------

DATABASE_URL = env("DATABASE_URL")
DATABASES = {"default": database_settings(url=DATABASE_URL, sqlite_path=BASE_DIR / "db.sqlite3")}

# --- Cache (shared rate-limit counters) ---------------------------------------------------------

REDIS_URL = env("REDIS_URL")
CACHES = {"default": cache_settings(redis_url=REDIS_URL)}

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
    default_storage = r2_storage(
        bucket=R2_BUCKET_NAME,
        endpoint=R2_ENDPOINT,
        access_key=R2_ACCESS_KEY_ID,
        secret_key=R2_SECRET_ACCESS_KEY,
        public_domain=R2_PUBLIC_DOMAIN,
        url_expiry=R2_URL_EXPIRY_SECONDS,
    )
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

SPECTACULAR_SETTINGS = openapi_settings(version=VERSION, debug=DEBUG)

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
    "upload": env("RATE_LIMIT_UPLOAD", "20/h"),
}
# Number of reverse proxies in front of the service whose X-Forwarded-For entries are trusted.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# django-ratelimit wants a shared cache; locmem is shared within the one `make run` process.
SILENCED_SYSTEM_CHECKS = [] if REDIS_URL else ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Request limits -----------------------------------------------------------------------------

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# Image uploads for image-to-video (POST /api/uploads/images): the body limit of that one path, the
# image's own limits, a daily quota per user, how long a URL handed to KIE stays valid, and the age after
# which an upload no generation used is removed (manage.py uploads_prune).
UPLOAD_IMAGE_MAX_BYTES = env_int("UPLOAD_IMAGE_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_IMAGE_MAX_SIDE = env_int("UPLOAD_IMAGE_MAX_SIDE", 4096)
UPLOAD_DAILY_QUOTA = env_int("UPLOAD_DAILY_QUOTA", 50)
UPLOAD_URL_EXPIRY_SECONDS = env_int("UPLOAD_URL_EXPIRY_SECONDS", 6 * 3600)
UPLOAD_UNUSED_MAX_AGE_HOURS = env_int("UPLOAD_UNUSED_MAX_AGE_HOURS", 48)
# Paths with their own body limit (the multipart envelope around the largest accepted file).
BODY_LIMITS = {"/api/uploads/images": UPLOAD_IMAGE_MAX_BYTES + 256 * 1024}
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

ADMIN_URL = env("ADMIN_URL", "admin/").strip("/") + "/"
# The bearer token Prometheus presents at /metrics; empty (the default) keeps /metrics a 404.
METRICS_TOKEN = env("METRICS_TOKEN", "")

# Admin sign-in limit (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT wrong passwords for one account,
# or from one address, that account (from anywhere) or that address (for any account) is refused for
# ADMIN_LOGIN_COOLOFF_MINUTES, the right password included. Staff unlock it early by deleting the
# "Access attempts" row in the admin (or `manage.py axes_reset_username EMAIL`). The API's own sign-in
# has its limiter (RATE_LIMITS["auth"]) and is left alone (AXES_ONLY_ADMIN_SITE).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("ADMIN_LOGIN_LIMIT_ENABLED", True)
AXES_ONLY_ADMIN_SITE = True
AXES_HANDLER = "aiasmr.backoffice.signin_lockout.AdminSignInHandler"
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account and per address
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field (USERNAME_FIELD is email)
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "aiasmr.api.ratelimit.client_ip"  # the limiter's view of the client (proxies)
AXES_VERBOSE = False

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

# --- Logging ------------------------------------------------------------------------------------

LOG_LEVEL = env("LOG_LEVEL", "info").upper()
LOGGING = logging_settings(level=LOG_LEVEL)

# A ready task older than this means no worker is taking work (detailed health).
WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 300)

# The apps' checks in /api/health/detailed, after database, cache and storage and before the worker's
# (dotted paths: aiasmr.api is framework glue and imports no app). Each returns details or raises.
HEALTH_APP_CHECKS = {"kie": "videos.health.check_kie"}
