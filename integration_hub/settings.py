"""Settings for the Integration Hub, read from the environment (see .env.example)."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from integration_hub.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("HUB_DEBUG", False)

SECRET_KEY = envstr("HUB_SECRET_KEY")
# Two keys, two purposes: credentials (LWA secrets, refresh tokens, back-office passwords, cached
# access tokens) and buyer data (names, addresses, phone, e-mail). Each variable is a comma-separated
# list: the first key encrypts, every key decrypts (MultiFernet), so a new key goes in front and the
# old one stays until `manage.py rotate_keys` has re-encrypted everything. HUB_ENCRYPTION_KEY, the
# single key of earlier versions, is still read (never written) for both.
CREDENTIALS_KEYS = envlist("HUB_CREDENTIALS_KEYS")
BUYER_DATA_KEYS = envlist("HUB_BUYER_DATA_KEYS")
LEGACY_ENCRYPTION_KEY = envstr("HUB_ENCRYPTION_KEY")
if not DEBUG:
    missing = [name for name, value in (("HUB_SECRET_KEY", SECRET_KEY), ("HUB_CREDENTIALS_KEYS", CREDENTIALS_KEYS),
                                        ("HUB_BUYER_DATA_KEYS", BUYER_DATA_KEYS)) if not value]
    if missing:
        raise ImproperlyConfigured(
            f"{', '.join(missing)} must be set when HUB_DEBUG is off (production). "
            "Generate each encryption key with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )
if not SECRET_KEY:
    SECRET_KEY = "dev-only-insecure-key"


def _dev_key(label):
    """Development only: stable keys derived from the dev secret, so demo data survives restarts."""
    return base64.urlsafe_b64encode(hashlib.sha256(f"{SECRET_KEY}{label}".encode()).digest()).decode()


if DEBUG and not LEGACY_ENCRYPTION_KEY:
    LEGACY_ENCRYPTION_KEY = _dev_key("")  # the one dev key of earlier versions: their data still reads
CREDENTIALS_KEYS = CREDENTIALS_KEYS or [_dev_key(":credentials")]
BUYER_DATA_KEYS = BUYER_DATA_KEYS or [_dev_key(":buyer-data")]
for _keys in (CREDENTIALS_KEYS, BUYER_DATA_KEYS):
    if LEGACY_ENCRYPTION_KEY and LEGACY_ENCRYPTION_KEY not in _keys:
        _keys.append(LEGACY_ENCRYPTION_KEY)
if CREDENTIALS_KEYS[0] == BUYER_DATA_KEYS[0]:
    raise ImproperlyConfigured("HUB_CREDENTIALS_KEYS and HUB_BUYER_DATA_KEYS must start with different keys")

ALLOWED_HOSTS = envlist("HUB_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("HUB_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "import_export",
    "simple_history",
    "django_rq",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "integration_hub.core",
    "integration_hub.accounts",
    "integration_hub.audit",
    "connectors",
    "mappings",
    "integration_hub.orders",
    "integration_hub.shipments",
    "integration_hub.inventory",
    "integration_hub.finance",
    "integration_hub.exchanges",
    "integration_hub.sync",
    "integration_hub.dashboard",
    "integration_hub.alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "integration_hub.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "integration_hub.core.timezones.TimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the locked-out page
]

ROOT_URLCONF = "integration_hub.urls"
WSGI_APPLICATION = "integration_hub.wsgi.application"

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
            ],
        },
    },
]

DATABASE_URL = envstr("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/integration_hub")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("HUB_DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL: it is the only engine the hub supports.")
if DATABASES["default"].get("OPTIONS", {}).get("server_side_binding"):
    raise ImproperlyConfigured("server_side_binding must stay off: the hub sends some statements together in one "
                               "query string (shipments.services), which server-side binding refuses.")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {
    # Shipment confirmations have their own lane so a stock resync never delays them.
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}
    for name in ("shipments", "orders", "stock", "finance", "default")
}
RQ_SHOW_ADMIN_LINK = False
# RQ's forking worker, loading before it forks what every job would load in its own fork.
RQ = {"WORKER_CLASS": "integration_hub.sync.worker.HubWorker"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out sign-in before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
# Brute force: after HUB_LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address,
# that pair is locked out for HUB_LOGIN_LOCKOUT_MINUTES (the page and the admin alike answer 429).
# An admin lifts a lockout early with `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = envint("HUB_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("HUB_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "integration_hub.core.clientip.client_ip"
AXES_VERBOSE = False
# Two-factor sign-in (TOTP, with one-time recovery codes): required of the admin role (and
# superusers) when HUB_REQUIRE_2FA_FOR_ADMINS is on, as it is by default in production; anyone who
# has set it up is asked for it. `manage.py reset_2fa NAME` removes a user's devices.
REQUIRE_2FA_FOR_ADMINS = envbool("HUB_REQUIRE_2FA_FOR_ADMINS", not DEBUG)
OTP_TOTP_ISSUER = envstr("HUB_2FA_ISSUER", "Integration Hub")
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = envstr("HUB_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(envstr("HUB_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves `collectstatic` output (compressed, hashed names) through WhiteNoise.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# HTTPS and cookies: on by default in production (HUB_DEBUG off); `manage.py check --deploy` is clean.
SECURE_SSL_REDIRECT = envbool("HUB_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = envint("HUB_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HUB_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("HUB_HSTS_PRELOAD", not DEBUG)
BEHIND_PROXY = envbool("HUB_BEHIND_PROXY", False)
if BEHIND_PROXY:
    # The TLS-terminating proxy says which scheme the browser used; trust it only when one is there.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("HUB_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = envint("HUB_SESSION_HOURS", 12) * 3600
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Password reset by e-mail is off unless an e-mail backend is configured for it; when on, the
# reset page answers the same whether or not an address has an account (Django's behaviour).
PASSWORD_RESET_ENABLED = envbool("HUB_PASSWORD_RESET", False)
# /metrics (Prometheus): a bearer token, or the scraper's addresses; with neither, nobody may read it.
METRICS_TOKEN = envstr("HUB_METRICS_TOKEN")
METRICS_ALLOW = envlist("HUB_METRICS_ALLOW", [])
# Inbound webhooks: largest body accepted, and deliveries per sending address per minute.
WEBHOOK_MAX_BYTES = envint("HUB_WEBHOOK_MAX_BYTES", 256 * 1024)
WEBHOOK_RATE_PER_MINUTE = envint("HUB_WEBHOOK_RATE_PER_MINUTE", 600)
EMAIL_BACKEND = envstr("HUB_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = envstr("HUB_EMAIL_FROM", "integration-hub@localhost")
# The address people reach the hub at: alert messages link to it.
HUB_BASE_URL = envstr("HUB_BASE_URL", "http://127.0.0.1:8000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["integration_hub.core.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Integration Hub API", "VERSION": "1.0.0", "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are for signed-in users (a token or a session), served without a CDN.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR",
    # One name for Amazon's order statuses wherever they appear (orders, the order-status map).
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "integration_hub.orders.choices.OrderStatus"},
}

IMPORT_EXPORT_USE_TRANSACTIONS = True
# Importing a mapping table needs the right to change it, exporting the right to see it (without
# these, django-import-export lets any staff user import into any table).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Where Amazon's official models live, for contract tests.
SPAPI_REFERENCE_DIR = Path(envstr("HUB_SPAPI_REFERENCE_DIR", str(BASE_DIR.parent / "shared" / "spapi")))
# Buyer personal data is erased this many days after delivery (Amazon Data Protection Policy).
PII_RETENTION_DAYS = envint("HUB_PII_RETENTION_DAYS", 30)
# Exchange-log rows are deleted after this many days.
EXCHANGE_RETENTION_DAYS = envint("HUB_EXCHANGE_RETENTION_DAYS", 90)
# Size limit for request/response summaries kept in the exchange log.
EXCHANGE_BODY_LIMIT = envint("HUB_EXCHANGE_BODY_LIMIT", 4000)

# Work items: a transient failure (5xx, 429, open circuit) is retried at most this many seconds later,
# and given up only after this many hours (and never before the order's ship-by).
WORK_RETRY_CAP_SECONDS = envint("HUB_WORK_RETRY_CAP_SECONDS", 300)
WORK_MAX_AGE_HOURS = envint("HUB_WORK_MAX_AGE_HOURS", 48)
# Order intake: each search window starts this far before the last one ended (Amazon's index is
# eventually consistent), and a new window opens at least this often (time-compressed benchmarks
# shorten both).
INTAKE_OVERLAP_SECONDS = envint("HUB_INTAKE_OVERLAP_SECONDS", 600)
INTAKE_MAX_POLL_GAP_SECONDS = envint("HUB_INTAKE_MAX_POLL_GAP_SECONDS", 300)
# ...and at least this long after the last one, so a burst of tokens is not spent on near-empty windows.
INTAKE_MIN_POLL_GAP_SECONDS = envint("HUB_INTAKE_MIN_POLL_GAP_SECONDS", 30)
# An open circuit (Amazon failing repeatedly) refuses calls this long before one probe tries again.
CIRCUIT_COOL_DOWN_SECONDS = envint("HUB_CIRCUIT_COOL_DOWN_SECONDS", 60)
# A SKU whose offer on Amazon falls to this many units or fewer after new orders is pushed at once.
STOCK_LOW_THRESHOLD = envint("HUB_STOCK_LOW_THRESHOLD", 3)
# Prompts the sweeper keeps queued per lane: each drains the lane, so about one per worker.
WORK_PROMPTS_PER_LANE = envint("HUB_WORK_PROMPTS_PER_LANE", 4)
# A prompt busy with its lane's work hands over after this long when a repeating job of the lane waits
# behind it (sync.engine.running.HANDOVER_AFTER; time-compressed benchmarks shorten it).
WORK_HANDOVER_SECONDS = envint("HUB_WORK_HANDOVER_SECONDS", 10)
# Items of one kind and account a worker claims at once where the kind runs in batches (sync.engine.handler).
WORK_CLAIM_BATCH = envint("HUB_WORK_CLAIM_BATCH", 20)
# Time-compressed benchmarks only: Amazon's documented request rates run this many times faster (the
# bursts, being counts, stay as documented), matching the emulator's quota_time_factor. Leave at 1.
AMAZON_QUOTA_TIME_FACTOR = envint("HUB_AMAZON_QUOTA_TIME_FACTOR", 1)

# Error pages and error e-mails never show a secret, a decrypted value or a URL password.
DEFAULT_EXCEPTION_REPORTER_FILTER = "integration_hub.core.debug.HubExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("HUB_LOG_LEVEL", "INFO")},
    # One line per HTTP request is what the exchange log is for; keep the console readable.
    "loggers": {"httpx": {"level": "WARNING"}},
}

# Optional fast path for new and changed orders: the SQS queue Amazon's ORDER_CHANGE
# subscription delivers to (`manage.py amazon_sqs_poller`). Polling remains the backstop.
AMAZON_SQS_QUEUE_URL = envstr("HUB_AMAZON_SQS_QUEUE_URL")
AMAZON_SQS_REGION = envstr("HUB_AMAZON_SQS_REGION")
# Only for the emulator (make run, tests): where to send SQS requests instead of AWS.
AMAZON_SQS_ENDPOINT = envstr("HUB_AMAZON_SQS_ENDPOINT")
