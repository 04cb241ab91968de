"""Cache whole GET responses keyed by the data version, so a write is visible at once in every process.

Only anonymous requests use it: a logged-in reader's page may differ (their own votes).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from paperboard.papers import freshness

TTL_SECONDS = 60  # also bounds how stale time-based rankings (trending) can get


def _has_messages(request: HttpRequest) -> bool:
    """A page carrying a one-off message ("you have been logged out") is neither served from nor stored in the cache."""
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0  # len() does not mark the messages as read


def cached_response(request: HttpRequest, build: Callable[[], HttpResponse]) -> HttpResponse:
    """Return the cached response for this URL at the current data version, or build and store it."""
    user = getattr(request, "user", None)
    if request.method != "GET" or (user is not None and user.is_authenticated) or _has_messages(request):
        return build()
    key = f"resp:{freshness.data_version()}:{request.get_full_path()}"
    hit = cache.get(key)
    if hit is not None:
        status, content_type, body, headers = hit
        response = HttpResponse(body, status=status, content_type=content_type)
        for name, value in headers:
            response[name] = value
        return response
    response = build()
    if response.status_code == 200 and not response.streaming:
        extra = [(h, response[h]) for h in ("Link", "Access-Control-Allow-Origin") if h in response]
        cache.set(key, (response.status_code, response["Content-Type"], response.content, extra), TTL_SECONDS)
    return response
