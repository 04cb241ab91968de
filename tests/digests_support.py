"""Helpers shared by the digest tests: a fixed Thursday morning, subscribers, papers on the feed, and
settings that send mail to the real test SMTP server."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from paperboard.digests import preferences
from paperboard.digests.models import Subscription
from paperboard.papers.models import Paper
from tests.conftest import make_paper, put_on_feed

NOW = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)  # a Thursday, at the default send hour (UTC)


def subscriber(email: str, *, frequency: str = "weekdays", due: dt.datetime | None = NOW, user=None,
               **prefs) -> Subscription:
    """A confirmed subscriber whose next digest falls due at `due`."""
    data = preferences.Preferences(**prefs).to_json() if prefs else {}
    return Subscription.objects.create(
        email=email, user=user, frequency=frequency, preferences=data,
        confirmed_at=NOW - dt.timedelta(days=30), next_due_at=due,
    )


def on_feed(n: int, day: str = "2026-11-25", *, start: int = 1, votes=None, titles=None, abstract=None,
            **paper) -> list:
    """`n` papers on the feed of `day`, arXiv ids 2611.{start:05d} on (upvotes `votes[i]`, else n - i)."""
    papers = []
    for i in range(n):
        p = make_paper(f"2611.{start + i:05d}", title=titles[i] if titles else None, **paper)
        if abstract is not None:
            Paper.objects.filter(pk=p.pk).update(abstract=abstract)
        put_on_feed(p, day, votes=votes[i] if votes else n - i)
        p.refresh_from_db()
        papers.append(p)
    return papers


def link_in(message, prefix: str) -> str:
    """The path of the first link starting with `prefix` in the text part of `message`."""
    text = message.get_body(("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(prefix) + r"\S+)", text)
    assert match, f"no {prefix} link in:\n{text}"
    return match.group(1)


@pytest.fixture
def smtp_mail(settings, smtp_server):
    """Mail goes to the real test SMTP server; yields the server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    return smtp_server
