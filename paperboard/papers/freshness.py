"""One number, `data_version`, that changes whenever anything a feed shows changes.

Cached pages and API answers put it in their cache key, so every worker process sees a write at
once without a shared cache: reading it is one primary-key lookup.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import F

from paperboard.papers.models import Counter

KEY = "data_version"


def data_version() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT value FROM papers_counter WHERE key = %s", [KEY])
        row = cur.fetchone()
    return row[0] if row else 0


def data_changed() -> None:
    """Bump the data version (call after any write that a feed, page or API answer shows)."""
    updated = Counter.objects.filter(key=KEY).update(value=F("value") + 1)
    if not updated:
        Counter.objects.get_or_create(key=KEY, defaults={"value": 1})
