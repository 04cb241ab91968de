"""Operations: /healthz, /readyz and `paperboard check`."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from tests.keys import STRONG_KEY
from tests.smtp import free_port, smtp_server  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

GOOD_KEY = STRONG_KEY


def check(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("check", *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def test_healthz_says_the_process_answers(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert "no-cache" in r["Cache-Control"]


def test_readyz_checks_the_database_migrations_and_cache(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "cache"}
    assert all(c["ok"] for c in body["checks"].values())


def test_readyz_is_503_with_the_reason_when_the_cache_is_broken(client, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.CACHES = {**settings.CACHES, "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(blocker)}}
    try:
        r = client.get("/readyz")
    finally:
        blocker.unlink()  # the suite's cache clearing at teardown then works on this cache too
    assert r.status_code == 503
    assert r.json()["status"] == "not ready" and r.json()["checks"]["cache"]["ok"] is False
    assert r.json()["checks"]["database"]["ok"] is True


def test_check_fails_on_the_development_secret_key_and_debug(settings):
    settings.SECRET_KEY = "paperboard-insecure-development-key-set-PAPERBOARD_SECRET_KEY"
    settings.DEBUG = True
    code, out = check()
    assert code == 1
    assert "ERROR secret key: PAPERBOARD_SECRET_KEY is not set" in out
    assert "ERROR debug: PAPERBOARD_DEBUG is on" in out


def test_check_passes_a_sound_configuration_and_warns_about_the_outbox(settings):
    settings.SECRET_KEY, settings.DEBUG = GOOD_KEY, False
    code, out = check()
    assert code == 0, out
    assert "OK    database:" in out and "OK    migrations: up to date" in out and "OK    cache:" in out
    assert "WARN  mail: no PAPERBOARD_SMTP_URL" in out
    assert "WARN  workers: no scheduled job has run yet: start `paperboard worker`" in out
    assert check("--fail-on-warning")[0] == 1


def test_check_says_whether_a_worker_claims_the_jobs_and_which_job_last_failed(settings):
    from django.utils import timezone

    from paperboard.jobs.models import JobRun

    settings.SECRET_KEY, settings.DEBUG = GOOD_KEY, False
    now = timezone.now()
    old = now - dt.timedelta(hours=2)
    JobRun.objects.create(job="ingest", due_at=old, status="failed", token="t", lease_until=old, claimed_at=old,
                          error="HarvestError: arXiv API answered HTTP 400 Bad Request\nmore")
    out = check()[1]
    assert "WARN  workers: no job claimed since" in out and "is `paperboard worker` running?" in out
    assert "WARN  job ingest: its last run" in out and "failed: HarvestError: arXiv API answered HTTP 400" in out
    JobRun.objects.create(job="digests", due_at=now, status="done", token="t", lease_until=now, claimed_at=now)
    assert "OK    workers: last job claimed" in check()[1]
    settings.PAPERBOARD_INGEST_CATEGORIES = ["cs.LG", "machine learning"]
    code, out = check()
    assert code == 1 and "ERROR ingest categories: PAPERBOARD_INGEST_CATEGORIES has what is not an arXiv category: " \
        "machine learning" in out


def test_check_reaches_the_mail_server(settings, smtp_server):  # noqa: F811
    settings.SECRET_KEY, settings.DEBUG = GOOD_KEY, False
    settings.EMAIL_BACKEND = "paperboard.mail.SmtpBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_SSL = "127.0.0.1", smtp_server.port, False
    code, out = check()
    assert code == 0 and f"OK    mail: 127.0.0.1:{smtp_server.port} answers" in out


def test_check_reports_an_unreachable_mail_server(settings):
    settings.SECRET_KEY, settings.DEBUG = GOOD_KEY, False
    settings.EMAIL_BACKEND = "paperboard.mail.SmtpBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_SSL = "127.0.0.1", free_port(), False
    code, out = check()
    assert code == 1 and "ERROR mail: 127.0.0.1:" in out
