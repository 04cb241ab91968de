"""Django settings, derived from the PAPERBOARD_* table in `paperboard.conf`. Nothing else is configured here."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from paperboard import conf
from paperboard.ops import logs

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = conf.data_dir()

DEBUG = conf.get_bool("DEBUG")
SECRET_KEY = conf.get("SECRET_KEY") or "paperboard-insecure-development-key-set-PAPERBOARD_SECRET_KEY"
BASE_URL = conf.get("BASE_URL").rstrip("/")

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
if urlsplit(BASE_URL).hostname:
    ALLOWED_HOSTS.append(urlsplit(BASE_URL).hostname)
ALLOWED_HOSTS += [h.strip() for h in conf.get("ALLOWED_HOSTS").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # /api/docs from the Swagger UI inside the django-ninja package, not a CDN (paperboard/ops/csp.py)
    "paperboard.papers",
    "paperboard.ingest",
    "paperboard.demo",
    "paperboard.accounts",
    "paperboard.community",
    "paperboard.search",
    "django_tasks",
    "django_tasks_db",
    "paperboard.digests",
    "paperboard.jobs",
    "paperboard.ops",
]

MIDDLEWARE = [
    "paperboard.ops.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "paperboard.ops.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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

DATABASES = {"default": conf.parse_database_url(conf.get("DATABASE_URL"), DATA_DIR)}
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

CACHES = conf.caches(conf.get("CACHE_URL"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = conf.get("TIME_ZONE")
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

LOGGING = logs.config(conf.get("LOG_FORMAT").strip().lower())

LOGIN_URL = "/accounts/login"
LOGIN_REDIRECT_URL = "/papers"
LOGOUT_REDIRECT_URL = "/papers"

# Mail: SMTP when PAPERBOARD_SMTP_URL is set, else files in the outbox folder (demo, development).
DEFAULT_FROM_EMAIL = conf.get("EMAIL_FROM")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_smtp = conf.parse_smtp_url(conf.get("SMTP_URL"))
if _smtp:
    EMAIL_BACKEND = "paperboard.mail.SmtpBackend"
    globals().update(_smtp)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "outbox"

# Background work (paperboard/jobs/schedule.py): django-tasks with its database backend, run by `paperboard worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Paperboard's own settings, typed.
PAPERBOARD_FEED_PAGE_SIZE = conf.get_int("FEED_PAGE_SIZE")
PAPERBOARD_ARXIV_API_URL = conf.get("ARXIV_API_URL")
PAPERBOARD_ARXIV_DELAY = conf.get_float("ARXIV_DELAY")
PAPERBOARD_HTTP_TIMEOUT = conf.get_float("HTTP_TIMEOUT")
PAPERBOARD_SERVE_WORKERS = conf.get_int("SERVE_WORKERS")
PAPERBOARD_SUBMIT_RECENCY_DAYS = conf.get_int("SUBMIT_RECENCY_DAYS")
PAPERBOARD_SUBMIT_DAILY_QUOTA = conf.get_int("SUBMIT_DAILY_QUOTA")
PAPERBOARD_SUBMIT_WEEKEND_PAUSE = conf.get_bool("SUBMIT_WEEKEND_PAUSE")
PAPERBOARD_SUBMIT_WHO = conf.get("SUBMIT_WHO")
PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS = conf.get_float("TRENDING_MIN_ACCOUNT_AGE_HOURS")
PAPERBOARD_RATELIMIT_ENABLED = conf.get_bool("RATELIMIT_ENABLED")
PAPERBOARD_SEARCH_FETCH_UNKNOWN = conf.get_bool("SEARCH_FETCH_UNKNOWN")
PAPERBOARD_METRICS_TOKEN = conf.get("METRICS_TOKEN")
PAPERBOARD_SEARCH_RELAXED_POSTINGS = conf.get_int("SEARCH_RELAXED_POSTINGS")
PAPERBOARD_SEMANTIC_MAX_TOKENS = conf.get_int("SEMANTIC_MAX_TOKENS")
if not 16 <= PAPERBOARD_SEMANTIC_MAX_TOKENS <= 512:
    raise ValueError(f"PAPERBOARD_SEMANTIC_MAX_TOKENS must be between 16 and 512, not {PAPERBOARD_SEMANTIC_MAX_TOKENS}")
PAPERBOARD_SEMANTIC_LIVE_EMBED = conf.get_bool("SEMANTIC_LIVE_EMBED")
PAPERBOARD_SEMANTIC_INDEX = conf.get("SEMANTIC_INDEX").strip().lower()
if PAPERBOARD_SEMANTIC_INDEX not in {"auto", "numpy"}:
    raise ValueError(f"PAPERBOARD_SEMANTIC_INDEX must be auto or numpy, not {PAPERBOARD_SEMANTIC_INDEX!r}")
PAPERBOARD_DIGEST_SEND_HOUR = conf.get_int("DIGEST_SEND_HOUR")
if not 0 <= PAPERBOARD_DIGEST_SEND_HOUR <= 23:
    raise ValueError(f"PAPERBOARD_DIGEST_SEND_HOUR must be between 0 and 23, not {PAPERBOARD_DIGEST_SEND_HOUR}")
PAPERBOARD_DIGEST_MAX_FAILURES = max(1, conf.get_int("DIGEST_MAX_FAILURES"))
PAPERBOARD_DIGEST_LEASE_SECONDS = max(1, conf.get_int("DIGEST_LEASE_SECONDS"))
PAPERBOARD_JOB_LEASE_SECONDS = max(1, conf.get_int("JOB_LEASE_SECONDS"))
PAPERBOARD_DIGEST_EVERY = max(0.0, conf.get_float("DIGEST_EVERY"))
PAPERBOARD_INGEST_EVERY = max(0.0, conf.get_float("INGEST_EVERY"))
PAPERBOARD_TRENDING_EVERY = max(0.0, conf.get_float("TRENDING_EVERY"))
PAPERBOARD_INDEX_EVERY = max(0.0, conf.get_float("INDEX_EVERY"))
PAPERBOARD_INGEST_CATEGORIES = [c.strip() for c in conf.get("INGEST_CATEGORIES").split(",") if c.strip()]
PAPERBOARD_HF_DAILY_PAPERS_URL = conf.get("HF_DAILY_PAPERS_URL").strip()
PAPERBOARD_TRUSTED_PROXIES = [p.strip() for p in conf.get("TRUSTED_PROXIES").split(",") if p.strip()]
