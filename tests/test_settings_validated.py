"""Every PAPERBOARD_* value is checked at start-up: a bad one stops any command, and the WSGI app, with one
line that names the setting and says what it accepts, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paperboard import conf

ROOT = Path(__file__).resolve().parent.parent

BAD = [
    ("DEBUG", "maybe"),
    ("DATABASE_URL", "mysql://paperboard:hunter2@db/papers"),
    ("DATABASE_URL", "postgres://paperboard:hunter2@db:5432x/papers"),
    ("DATABASE_URL", "postgres://paperboard:hunter2@db/papers?conn_max_age=soon"),
    ("DIGEST_SEND_HOUR", "24"),
    ("DIGEST_SEND_HOUR", "seven"),
    ("FEED_PAGE_SIZE", "-5"),
    ("FEED_PAGE_SIZE", "0"),
    ("SERVE_WORKERS", "0"),
    ("ARXIV_DELAY", "-1"),
    ("HTTP_TIMEOUT", "0"),
    ("HTTP_TIMEOUT", "nan"),
    ("DIGEST_EVERY", "-60"),
    ("INGEST_EVERY", "inf"),
    ("TRENDING_EVERY", "-1"),
    ("INDEX_EVERY", "5 minutes"),
    ("DIGEST_LEASE_SECONDS", "0"),
    ("JOB_LEASE_SECONDS", "-300"),
    ("DIGEST_MAX_FAILURES", "0"),
    ("SUBMIT_DAILY_QUOTA", "-1"),
    ("SUBMIT_RECENCY_DAYS", "2.5"),
    ("TRENDING_MIN_ACCOUNT_AGE_HOURS", "-24"),
    ("SEARCH_RELAXED_POSTINGS", "-1"),
    ("SEMANTIC_MAX_TOKENS", "1024"),
    ("SEMANTIC_INDEX", "faiss"),
    ("LOG_FORMAT", "xml"),
    ("SUBMIT_WHO", "everyone"),
    ("SUBMIT_WEEKEND_PAUSE", "sometimes"),
    ("TRUSTED_PROXIES", "10.0.0.0/33"),
    ("TRUSTED_PROXIES", "127.0.0.1, nginx"),
    ("BASE_URL", "papers.example.org"),
    ("BASE_URL", "ftp://papers.example.org"),
    ("ARXIV_API_URL", "export.arxiv.org/api/query"),
    ("HF_DAILY_PAPERS_URL", "https://"),
    ("TIME_ZONE", "Mars/Olympus_Mons"),
    ("TIME_ZONE", "../../etc/passwd"),
    ("SMTP_URL", "http://mailer:hunter2@smtp.example.org"),
    ("SMTP_URL", "smtp://mailer:hunter2@smtp.example.org:99999"),
    ("CACHE_URL", "memcached://cache:11211"),
    ("EMAIL_FROM", "nobody"),
    ("ALLOWED_HOSTS", "papers.example.org, not a host"),
    ("INGEST_CATEGORIES", "cs.LG,machine learning"),
    ("DATA_DIR", ""),
    ("RATELIMIT_ENABLED", "2"),
    ("SEARCH_FETCH_UNKNOWN", "y"),
    ("SEMANTIC_LIVE_EMBED", "enabled"),
]


def clean_env(tmp_path: Path, **settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOARD_")}
    env |= {"PYTHONPATH": str(ROOT), "PAPERBOARD_DATA_DIR": str(tmp_path)}
    return env | {f"PAPERBOARD_{name}": value for name, value in settings.items()}


def assert_one_line_naming(stderr: str, name: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if "PAPERBOARD_" in line]
    assert len(lines) == 1 and lines[0].startswith(f"paperboard: PAPERBOARD_{name} must be "), stderr
    assert "hunter2" not in stderr  # passwords in URLs are never repeated


def test_every_setting_has_a_bad_value_tried_below_or_takes_any_text():
    tried = {name for name, _ in BAD}
    untried = {s.name for s in conf.SETTINGS if s.name not in tried and s.type.accepts != "any text"}
    assert untried <= {"SECRET_KEY"}, untried  # any text: the key's strength is `check`'s, `serve`'s business


def test_every_default_is_accepted():
    values = conf.load({})
    assert values["FEED_PAGE_SIZE"] == 50 and values["DEBUG"] is False and values["TRUSTED_PROXIES"] == []


@pytest.mark.parametrize(("name", "value"), [
    ("DATABASE_URL", "postgres://postgres@/postgres?host=/tmp/pbpg1"),  # a unix socket
    ("DATABASE_URL", "postgres:///paperboard"),
    ("DATABASE_URL", "sqlite:////srv/paperboard/db.sqlite3"),
    ("CACHE_URL", "unix:///run/redis.sock?db=0"),
    ("TRUSTED_PROXIES", "127.0.0.1, ::1, 10.0.0.0/8"),
    ("ALLOWED_HOSTS", ".example.org,papers.example.net,[::1]"),
    ("EMAIL_FROM", "Paperboard <papers@example.org>"),
    ("TIME_ZONE", " Europe/Paris "),
])
def test_good_values_of_every_shape_are_accepted(name, value):
    conf.load({f"PAPERBOARD_{name}": value})


def test_list_settings_drop_empty_items_and_name_the_first_item_they_refuse():
    values = conf.load({"PAPERBOARD_TRUSTED_PROXIES": " 127.0.0.1,, ::1 ,", "PAPERBOARD_INGEST_CATEGORIES": "cs.LG, ,cs.CL"})
    assert values["TRUSTED_PROXIES"] == ["127.0.0.1", "::1"] and values["INGEST_CATEGORIES"] == ["cs.LG", "cs.CL"]
    with pytest.raises(conf.SettingError, match=r"IP addresses or CIDR ranges .*, not 'nginx'$"):
        conf.load({"PAPERBOARD_TRUSTED_PROXIES": "127.0.0.1, nginx, 10.0.0.0/33"})
    with pytest.raises(conf.SettingError, match=r"arXiv categories .*, not 'machine learning'$"):
        conf.load({"PAPERBOARD_INGEST_CATEGORIES": "cs.LG,machine learning,x y"})


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_a_bad_value_stops_paperboard_with_one_line_naming_the_setting(tmp_path, name, value):
    with pytest.raises(conf.SettingError, match=f"^PAPERBOARD_{name} must be "):
        conf.load({f"PAPERBOARD_{name}": value})
    env = clean_env(tmp_path, **{name: value})
    r = subprocess.run([sys.executable, "-m", "paperboard", "check"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert_one_line_naming(r.stderr, name)


def test_a_bad_value_stops_the_wsgi_app_under_gunicorn(tmp_path):
    env = clean_env(tmp_path, DIGEST_SEND_HOUR="24", SECRET_KEY="")
    r = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "paperboard.wsgi:application"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert_one_line_naming(r.stderr, "DIGEST_SEND_HOUR")


def test_the_wsgi_app_under_gunicorn_refuses_an_unsafe_secret_key(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "paperboard.wsgi:application"],
                       cwd=tmp_path, env=clean_env(tmp_path, SECRET_KEY="short"), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "paperboard: PAPERBOARD_SECRET_KEY is shorter than 50 characters" in r.stderr


def test_docs_say_what_each_setting_accepts():
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [s.env for s in conf.SETTINGS if f"| `{s.env}` | {s.type.accepts} |" not in text]
    assert not missing, f"docs/settings.md does not say what these accept (as conf.py does): {missing}"
