"""The table of Paperboard settings: every PAPERBOARD_* environment variable, its default, its help and what
it accepts (`paperboard.conftypes`).

`docs/settings.md` documents each entry; a test fails when one is missing there.
Values are read and checked once, at start-up, by `paperboard.settings` (`load()`): the first bad one stops
start-up with a `SettingError` that names it and says what it accepts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from paperboard import conftypes as T


class SettingError(ValueError):
    """A PAPERBOARD_* variable holds a value its setting does not accept; the text is one line."""


@dataclass(frozen=True)
class Setting:
    name: str  # without the PAPERBOARD_ prefix
    default: str
    help: str
    type: T.Text | T.Flag | T.Whole | T.Number | T.Choice | T.Url | T.Names | T.Networks | T.TimeZone | T.Address

    @property
    def env(self) -> str:
        return f"PAPERBOARD_{self.name}"


HOST_RE = re.compile(r"^(\*|\.?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])$")
HTTP = T.Url("an `http://` or `https://` URL", ("http", "https"))
HTTP_OR_EMPTY = T.Url("empty or an `http://` or `https://` URL", ("http", "https"), empty=True)
DATABASE = T.Url(
    "empty, `sqlite:////abs/path.sqlite3` or `postgres://user:pass@host:5432/db`", ("sqlite", "postgres", "postgresql",
    "pgsql"), empty=True, hostless=("sqlite", "postgres", "postgresql", "pgsql"),  # postgres: a local socket
    secret=True, check=lambda url: parse_database_url(url, Path("/")),
)
SMTP = T.Url("empty, `smtp://…` or `smtps://…`", ("smtp", "smtps"), empty=True, secret=True,
             check=lambda url: parse_smtp_url(url))
CACHE = T.Url("empty or a `redis://`, `rediss://` or `unix://` URL", ("redis", "rediss", "unix"), empty=True,
              hostless=("unix",), secret=True)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_DIR", "./var", "Directory for the SQLite database, indexes, the mail outbox and other state.",
        T.Text("a directory path", required=True),
    ),
    Setting(
        "DATABASE_URL",
        "",
        "Database to use: `sqlite:////abs/path.sqlite3` or `postgres://user:pass@host:5432/db`. "
        "Empty means SQLite at `$PAPERBOARD_DATA_DIR/paperboard.sqlite3`.",
        DATABASE,
    ),
    Setting(
        "SECRET_KEY",
        "",
        "Django secret key (sessions, signed links). Required in production; empty means the key in "
        "`$PAPERBOARD_DATA_DIR/secret_key` (`paperboard demo` writes one), else an insecure development key.",
        T.Text("any text; `paperboard check`, `serve` and `worker` want 50 or more random characters", secret=True),
    ),
    Setting("DEBUG", "false", "Django debug mode (tracebacks in pages). Never on in production.", T.Flag()),
    Setting(
        "BASE_URL", "http://127.0.0.1:8000", "Public URL of the instance, used in links, mails and feeds.",
        T.Url("an `http://` or `https://` URL", ("http", "https")),
    ),
    Setting(
        "ALLOWED_HOSTS",
        "",
        "Comma-separated extra host names to serve; the host of BASE_URL, localhost and 127.0.0.1 are always allowed.",
        T.Names("comma-separated host names (`.example.org` for a domain and its subdomains)", HOST_RE),
    ),
    Setting("TIME_ZONE", "UTC", "Time zone that decides which calendar day a submission falls on.", T.TimeZone()),
    Setting("FEED_PAGE_SIZE", "50", "Papers per page in the daily, weekly and monthly feed pages.", T.Whole(1, 1000)),
    Setting("ARXIV_API_URL", "https://export.arxiv.org/api/query", "arXiv API endpoint used by `ingest arxiv`.", HTTP),
    Setting(
        "ARXIV_DELAY", "3", "Seconds to wait between two requests to the arXiv API (arXiv asks for at least 3).",
        T.Number(0),
    ),
    Setting(
        "HTTP_TIMEOUT", "30", "Seconds before an outgoing HTTP request (arXiv) times out.",
        T.Number(0, above=True),
    ),
    Setting("SERVE_WORKERS", "2", "Default number of worker processes for `paperboard serve`.", T.Whole(1)),
    Setting(
        "SMTP_URL",
        "",
        "Outgoing mail server: `smtp://user:pass@host:587` (STARTTLS when the server offers it), "
        "`smtps://…:465` (TLS from the start) or `smtp://host:25?starttls=false`. Empty: mail is written "
        "to the outbox folder `$PAPERBOARD_DATA_DIR/outbox` instead of being sent.",
        SMTP,
    ),
    Setting(
        "EMAIL_FROM", "Paperboard <noreply@localhost>", "From address of every mail the instance sends.",
        T.Address(),
    ),
    Setting(
        "SUBMIT_RECENCY_DAYS", "14", "A paper may be submitted only this many days after its first arXiv version.",
        T.Whole(0),
    ),
    Setting("SUBMIT_DAILY_QUOTA", "5", "Submissions per user per day (admins are exempt).", T.Whole(0)),
    Setting(
        "SUBMIT_WEEKEND_PAUSE", "false", "When true, nobody but admins submits on Saturdays and Sundays.",
        T.Flag(),
    ),
    Setting(
        "SUBMIT_WHO",
        "confirmed",
        "Who may submit: `confirmed` (any account with a confirmed email), `trusted` (accounts older than "
        "PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS) or `admins`.",
        T.Choice(("confirmed", "trusted", "admins")),
    ),
    Setting(
        "TRENDING_MIN_ACCOUNT_AGE_HOURS",
        "24",
        "Votes from accounts younger than this (or with an unconfirmed email) do not count toward trending.",
        T.Number(0),
    ),
    Setting(
        "DIGEST_SEND_HOUR", "7", "Hour of the day (0-23, in PAPERBOARD_TIME_ZONE) at which email digests fall due.",
        T.Whole(0, 23),
    ),
    Setting(
        "DIGEST_MAX_FAILURES",
        "3",
        "Permanent delivery failures in a row (5xx, refused recipient) after which an address is suppressed: "
        "no more digests go to it until an admin lifts the suppression.",
        T.Whole(1),
    ),
    Setting(
        "DIGEST_LEASE_SECONDS",
        "300",
        "How long a digest being sent belongs to the run sending it; a run that died holding one is "
        "recovered by a later run after this time.",
        T.Whole(1),
    ),
    Setting(
        "JOB_LEASE_SECONDS",
        "300",
        "How long a scheduled job's run belongs to the worker running it between two heartbeats; the run of a "
        "worker that died is taken over by another worker after this time.",
        T.Whole(1),
    ),
    Setting(
        "DIGEST_EVERY", "60", "Seconds between two runs of the `digests` job (sends what is due); 0 turns it off.",
        T.Number(0),
    ),
    Setting(
        "INGEST_EVERY",
        "21600",
        "Seconds between two runs of the `ingest` job (the arXiv API, PAPERBOARD_INGEST_CATEGORIES); 0 turns it off.",
        T.Number(0),
    ),
    Setting(
        "INGEST_CATEGORIES",
        "",
        "Comma-separated arXiv categories the `ingest` job harvests from the arXiv API, e.g. `cs.LG,cs.CL`. "
        "Empty: the job does nothing.",
        T.Names("comma-separated arXiv categories (`cs.LG,cs.CL`)", T.CATEGORY_RE),
    ),
    Setting(
        "TRENDING_EVERY",
        "1800",
        "Seconds between two runs of the `trending` job (re-reads PAPERBOARD_HF_DAILY_PAPERS_URL); 0 turns it off.",
        T.Number(0),
    ),
    Setting(
        "HF_DAILY_PAPERS_URL",
        "",
        "Hugging Face's daily-papers API, `https://huggingface.co/api/daily_papers`: the `trending` job reads it "
        "for each day of the trending window (papers, imported upvotes, comment counts, GitHub stars). "
        "Empty: the job does nothing.",
        HTTP_OR_EMPTY,
    ),
    Setting(
        "INDEX_EVERY",
        "300",
        "Seconds between two runs of the `index` job (missing or stale search index entries and embeddings); "
        "0 turns it off.",
        T.Number(0),
    ),
    Setting(
        "CACHE_URL",
        "",
        "`redis://host:6379/0`: one cache shared by every web process and host (pages, API answers, rate "
        "limits). Empty: a cache in each process's memory (one machine).",
        CACHE,
    ),
    Setting(
        "LOG_FORMAT", "text", "`text` (readable lines) or `json` (one JSON object per line, for log shippers).",
        T.Choice(("text", "json")),
    ),
    Setting(
        "METRICS_TOKEN",
        "",
        "Bearer token for `/metrics` (Prometheus). Empty: `/metrics` answers only requests from this host. "
        "Set it whenever a reverse proxy is in front of the instance.",
        T.Text(secret=True),
    ),
    Setting(
        "TRUSTED_PROXIES",
        "",
        "Comma-separated addresses or CIDR ranges of reverse proxies in front of the instance (e.g. `127.0.0.1` "
        "for nginx on the same host). Only when the direct peer is one of them is the client taken from "
        "`X-Forwarded-For` (its right-most untrusted address); empty: `X-Forwarded-For` is ignored.",
        T.Networks(),
    ),
    Setting("RATELIMIT_ENABLED", "true", "Rate limits on sign-up, log-in, submissions, votes and comments.", T.Flag()),
    Setting(
        "SEARCH_FETCH_UNKNOWN",
        "true",
        "When an arXiv id or URL pasted into search is not in the database, fetch it from the arXiv API.",
        T.Flag(),
    ),
    Setting(
        "SEARCH_RELAXED_POSTINGS",
        "20000",
        "Keyword search: when no paper has every word, papers with any of the rarer words are ranked, the words "
        "taken rarest first while the papers holding them add up to at most this many. Lower is faster, higher "
        "finds more (docs/search.md).",
        T.Whole(0),
    ),
    Setting(
        "SEMANTIC_MAX_TOKENS",
        "256",
        "Word pieces of `title. abstract` the embedding model reads (all-MiniLM-L6-v2, at most 512); "
        "changing it makes every embedding stale.",
        T.Whole(16, 512),
    ),
    Setting(
        "SEMANTIC_LIVE_EMBED",
        "true",
        "Let web requests load the embedding model to embed a search query, or a paper that has no embedding yet "
        "(similar papers, For you). When false, semantic search returns nothing and only stored vectors are used.",
        T.Flag(),
    ),
    Setting(
        "SEMANTIC_INDEX",
        "auto",
        "Where nearest-neighbour queries run: `auto` (pgvector on PostgreSQL when the extension is enabled, "
        "else the exact in-process index) or `numpy` (always the in-process index).",
        T.Choice(("auto", "numpy")),
    ),
)


def get(name: str, environ: os._Environ | dict | None = None) -> str:
    """Return the raw string value of setting `name` from the environment, or its default."""
    return _raw(_setting(name), os.environ if environ is None else environ)


def value(name: str, environ: os._Environ | dict | None = None):
    """The checked value of setting `name` (bool, int, float, str or list); SettingError when it is bad."""
    return _parse(_setting(name), os.environ if environ is None else environ)


def load(environ: os._Environ | dict | None = None) -> dict[str, object]:
    """Every setting's checked value, by name; SettingError on the first bad one."""
    environ = os.environ if environ is None else environ
    return {s.name: _parse(s, environ) for s in SETTINGS}


def _setting(name: str) -> Setting:
    for s in SETTINGS:
        if s.name == name:
            return s
    raise KeyError(f"unknown setting {name}")


def _raw(s: Setting, environ) -> str:
    return environ.get(s.env, s.default)


def _parse(s: Setting, environ):
    raw = _raw(s, environ)
    try:
        return s.type.parse(raw)
    except T.Bad as exc:
        if exc.args and exc.args[0]:
            got = str(exc.args[0])
        else:
            got = "that value" if s.type.secret else repr(raw if len(raw) <= 60 else raw[:57] + "...")
        raise SettingError(f"{s.env} must be {s.type.accepts}, not {got}".replace("\n", " ")) from None


def data_dir() -> Path:
    return Path(value("DATA_DIR")).expanduser().resolve()


def parse_database_url(url: str, data_dir: Path) -> dict:
    """Turn a PAPERBOARD_DATABASE_URL into a Django DATABASES entry."""
    if not url:
        url = f"sqlite:///{data_dir / 'paperboard.sqlite3'}"
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "sqlite":
        # sqlite:////abs/path -> path "//abs/path"; sqlite:///rel/path -> "/rel/path"
        path = unquote(parts.path)
        # sqlite:////abs/path.sqlite3 -> "/abs/path.sqlite3"; sqlite:///rel.sqlite3 -> "rel.sqlite3"
        name = path[1:] if path.startswith("//") else (path.lstrip("/") or ":memory:")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # Keep each worker thread's connection: opening one (and its PRAGMAs) cost ~40% of a cached
            # request (bench/results/profiling.md).
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
                # so two writers queue on busy_timeout instead of failing with "database is locked".
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Tests use a file beside the database, not :memory:, so live-server threads and concurrent
            # clients in tests get their own connections, as in production.
            # The process id keeps test runs started side by side from sharing one file.
            "TEST": {"NAME": options.get("test_name") or str(Path(name).with_name(f"test_{os.getpid()}_{Path(name).name}"))}
            if name != ":memory:"
            else {},
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "paperboard",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": int(options.pop("conn_max_age", 60)),
            "OPTIONS": options,
        }
    raise ValueError(f"PAPERBOARD_DATABASE_URL: unsupported scheme {parts.scheme!r} (use sqlite:// or postgres://)")


def parse_smtp_url(url: str) -> dict:
    """Turn PAPERBOARD_SMTP_URL into Django EMAIL_* settings (empty dict for an empty URL)."""
    if not url:
        return {}
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(f"PAPERBOARD_SMTP_URL: unsupported scheme {parts.scheme!r} (use smtp:// or smtps://)")
    options = dict(parse_qsl(parts.query))
    tls = parts.scheme == "smtps"
    starttls = not tls and options.get("starttls", "auto").lower() not in {"0", "false", "no", "off"}
    return {
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if tls else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": tls,
        # "auto": STARTTLS when the server offers it (see paperboard.mail.backend.SmtpBackend).
        "PAPERBOARD_SMTP_STARTTLS": "auto" if starttls and options.get("starttls", "auto") == "auto" else starttls,
        "EMAIL_TIMEOUT": float(options.get("timeout", 20)),
    }


def caches(url: str) -> dict:
    """Django CACHES for PAPERBOARD_CACHE_URL: Redis shared by every process, or memory per process.

    `responses` holds whole anonymous answers (paperboard.papers.caching), keyed by the data version, so a
    write shows at once either way; in Redis its entries expire after 10 minutes (old versions are never
    read again), in memory at most 500 x 256 KiB are kept per process."""
    url = (url or "").strip()
    if not url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "paperboard",
                "OPTIONS": {"MAX_ENTRIES": 5000},
            },
            "responses": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "paperboard-responses",
                "OPTIONS": {"MAX_ENTRIES": 500, "CULL_FREQUENCY": 4},
            },
        }
    if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise ValueError(f"PAPERBOARD_CACHE_URL: unsupported scheme in {url!r} (use redis://, rediss:// or unix://)")
    redis = "django.core.cache.backends.redis.RedisCache"
    return {
        "default": {"BACKEND": redis, "LOCATION": url, "KEY_PREFIX": "pb"},
        "responses": {"BACKEND": redis, "LOCATION": url, "KEY_PREFIX": "pb-responses", "TIMEOUT": 600},
    }
