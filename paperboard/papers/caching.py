"""Cache whole GET responses keyed by the data version, so a write is visible at once in every process.

Only anonymous requests use it: a logged-in reader's page may differ (their own votes).

Memory is bounded: entries live in their own cache ("responses", at most MAX_ENTRIES per process), a body
over MAX_BODY_BYTES is never stored, and a URL with query parameters the site does not use is served but
not stored (so cache-busting junk cannot fill the cache). Parameter order does not split entries.
"""

from __future__ import annotations

from collections.abc import Callable

from urllib.parse import urlencode

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

from paperboard.papers import freshness

TTL_SECONDS = 60  # also bounds how stale time-based rankings (trending) can get
MAX_BODY_BYTES = 256 * 1024  # a full /api/daily_papers page of 100 items is about 400 KiB: built each time
# Query parameters that change what a page or API answer shows; any other name means "do not store".
KNOWN_PARAMS = frozenset({
    "p", "limit", "date", "week", "month", "submitter", "sort", "cursor", "format",
    "q", "cat", "category", "after", "before", "has_code", "code", "page", "partial", "mode", "from", "to",
    "name",
})
# Response headers stored with the body (validators included: feeds answer conditional GETs from them).
KEPT_HEADERS = ("Link", "Access-Control-Allow-Origin", "ETag", "Last-Modified")


def _has_messages(request: HttpRequest) -> bool:
    """A page carrying a one-off message ("you have been logged out") is neither served from nor stored in the cache."""
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0  # len() does not mark the messages as read


def cached_response(request: HttpRequest, build: Callable[[], HttpResponse]) -> HttpResponse:
    """Return the cached response for this URL at the current data version, or build and store it.

    The key holds neither scheme nor host: every absolute URL in an answer (API `Link` and `url`, feeds)
    comes from PAPERBOARD_BASE_URL (`paperboard.absolute`), so the Host header cannot change what is stored."""
    user = getattr(request, "user", None)
    if request.method != "GET" or (user is not None and user.is_authenticated) or _has_messages(request):
        return build()
    names = set(request.GET.keys())
    if not names <= KNOWN_PARAMS:
        return build()
    cache = caches["responses"]
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    key = f"resp:{freshness.data_version()}:{request.path}?{query}"
    hit = cache.get(key)
    if hit is not None:
        status, content_type, body, headers = hit
        response = HttpResponse(body, status=status, content_type=content_type)
        for name, value in headers:
            response[name] = value
        return response
    response = build()
    if response.status_code == 200 and not response.streaming and len(response.content) <= MAX_BODY_BYTES:
        extra = [(h, response[h]) for h in KEPT_HEADERS if h in response]
        cache.set(key, (response.status_code, response["Content-Type"], response.content, extra), TTL_SECONDS)
    return response
