"""Django settings, derived from the PAPERBOARD_* table in `paperboard.conf`. Nothing else is configured here."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from paperboard import conf, logs, secretkey

_conf = conf.load()  # every PAPERBOARD_* value checked: a bad one stops here with a one-line SettingError

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(_conf["DATA_DIR"]).expanduser().resolve()

DEBUG = _conf["DEBUG"]
# The configured key, else the one `paperboard demo` keeps in the data dir, else a development key that
# `paperboard check`, `serve` and `worker` refuse (paperboard/secretkey.py).
try:
    SECRET_KEY = _conf["SECRET_KEY"] if _conf["SECRET_KEY"].strip() else (
        secretkey.stored(DATA_DIR) or secretkey.DEVELOPMENT_KEY)
except OSError as exc:
    raise conf.SettingError(f"PAPERBOARD_SECRET_KEY is empty and {DATA_DIR / secretkey.FILE_NAME} cannot be read: "
                            f"{exc.strerror}") from None
BASE_URL = _conf["BASE_URL"].rstrip("/")

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
if urlsplit(BASE_URL).hostname:
    ALLOWED_HOSTS.append(urlsplit(BASE_URL).hostname)
ALLOWED_HOSTS += _conf["ALLOWED_HOSTS"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # /api/docs from the Swagger UI inside the django-ninja package, not a CDN (paperboard/csp.py)
    "paperboard.papers",
    "paperboard.ingest",
    "paperboard.demo",
    "paperboard.accounts",
    "paperboard.community",
    "paperboard.search",
    "django_tasks",
    "django_tasks_db",
    "paperboard.digests",
    "paperboard.feeds",
    "paperboard.jobs",
    "paperboard.ops",
]

MIDDLEWARE = [
    "paperboard.ops.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "paperboard.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "paperboard.web_guard.RefuseUnstorableText",  # 400 for NUL / lone surrogates in parameters, forms, JSON
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "paperboard.urls"
WSGI_APPLICATION = "paperboard.wsgi.application"

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
                "paperboard.papers.context.navigation",
            ],
        },
    }
]

DATABASES = {"default": conf.parse_database_url(_conf["DATABASE_URL"], DATA_DIR)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and DATABASES["default"]["NAME"] != ":memory:":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

CACHES = conf.caches(_conf["CACHE_URL"])

LANGUAGE_CODE = "en-us"
TIME_ZONE = _conf["TIME_ZONE"]
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"  # only `collectstatic` writes here; WhiteNoise wants it to exist
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the app's static folders: no collectstatic step before `paperboard serve`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = logs.config(_conf["LOG_FORMAT"])

LOGIN_URL = "/accounts/login"
LOGIN_REDIRECT_URL = "/papers"
LOGOUT_REDIRECT_URL = "/papers"

# Mail: SMTP when PAPERBOARD_SMTP_URL is set, else files in the outbox folder (demo, development).
DEFAULT_FROM_EMAIL = _conf["EMAIL_FROM"]
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_smtp = conf.parse_smtp_url(_conf["SMTP_URL"])
if _smtp:
    EMAIL_BACKEND = "paperboard.mail.backend.SmtpBackend"
    globals().update(_smtp)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "outbox"

# Background work (paperboard/jobs/schedule.py): django-tasks with its database backend, run by `paperboard worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Paperboard's own settings, typed and range-checked by conf.load().
PAPERBOARD_FEED_PAGE_SIZE = _conf["FEED_PAGE_SIZE"]
PAPERBOARD_ARXIV_API_URL = _conf["ARXIV_API_URL"]
PAPERBOARD_ARXIV_DELAY = _conf["ARXIV_DELAY"]
PAPERBOARD_HTTP_TIMEOUT = _conf["HTTP_TIMEOUT"]
PAPERBOARD_SERVE_WORKERS = _conf["SERVE_WORKERS"]
PAPERBOARD_SUBMIT_RECENCY_DAYS = _conf["SUBMIT_RECENCY_DAYS"]
PAPERBOARD_SUBMIT_DAILY_QUOTA = _conf["SUBMIT_DAILY_QUOTA"]
PAPERBOARD_SUBMIT_WEEKEND_PAUSE = _conf["SUBMIT_WEEKEND_PAUSE"]
PAPERBOARD_SUBMIT_WHO = _conf["SUBMIT_WHO"]
PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS = _conf["TRENDING_MIN_ACCOUNT_AGE_HOURS"]
PAPERBOARD_RATELIMIT_ENABLED = _conf["RATELIMIT_ENABLED"]
PAPERBOARD_SEARCH_FETCH_UNKNOWN = _conf["SEARCH_FETCH_UNKNOWN"]
PAPERBOARD_METRICS_TOKEN = _conf["METRICS_TOKEN"]
PAPERBOARD_SEARCH_RELAXED_POSTINGS = _conf["SEARCH_RELAXED_POSTINGS"]
PAPERBOARD_SEMANTIC_MAX_TOKENS = _conf["SEMANTIC_MAX_TOKENS"]
PAPERBOARD_SEMANTIC_LIVE_EMBED = _conf["SEMANTIC_LIVE_EMBED"]
PAPERBOARD_SEMANTIC_INDEX = _conf["SEMANTIC_INDEX"]
PAPERBOARD_DIGEST_SEND_HOUR = _conf["DIGEST_SEND_HOUR"]
PAPERBOARD_DIGEST_MAX_FAILURES = _conf["DIGEST_MAX_FAILURES"]
PAPERBOARD_DIGEST_LEASE_SECONDS = _conf["DIGEST_LEASE_SECONDS"]
PAPERBOARD_JOB_LEASE_SECONDS = _conf["JOB_LEASE_SECONDS"]
PAPERBOARD_DIGEST_EVERY = _conf["DIGEST_EVERY"]
PAPERBOARD_INGEST_EVERY = _conf["INGEST_EVERY"]
PAPERBOARD_TRENDING_EVERY = _conf["TRENDING_EVERY"]
PAPERBOARD_INDEX_EVERY = _conf["INDEX_EVERY"]
PAPERBOARD_INGEST_CATEGORIES = _conf["INGEST_CATEGORIES"]
PAPERBOARD_HF_DAILY_PAPERS_URL = _conf["HF_DAILY_PAPERS_URL"]
PAPERBOARD_TRUSTED_PROXIES = _conf["TRUSTED_PROXIES"]
