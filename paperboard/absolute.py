"""Absolute URLs of this instance, from settings.BASE_URL (PAPERBOARD_BASE_URL) only.

Never from the request's Host header: API answers and feeds are cached for every reader and mails go to
many, so a client that sends `Host: evil.example` must not be able to put its host into anyone's links.
"""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (starting with /) on the public base URL, e.g. `https://papers.example.org/papers/2501.00001`."""
    return f"{settings.BASE_URL}{path}"
