"""Rate limits shared by every process: fixed windows counted in the database (one upsert per hit).

A limited action answers 429 with `Retry-After`; API paths get JSON `{"error", "code": "rate_limited"}`.
Limits are named here, on one screen, as (count, window seconds).
"""

from __future__ import annotations

import functools
import json
import math
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from paperboard.papers.models import RateCounter
from paperboard.web import client_ip

LIMITS: dict[str, tuple[int, int]] = {
    "signup": (5, 3600),  # per IP
    "login": (10, 300),  # per IP
    "password-reset": (5, 3600),  # per IP
    "submit": (20, 3600),  # per user, on top of the daily quota rule
    "vote": (120, 60),  # per user
    "comment": (10, 60),  # per user
    "flag": (20, 3600),  # per user
    "digest-subscribe": (10, 3600),  # per IP (or per user, from the settings page)
    "digest-mail": (3, 86400),  # confirmation mails per address: a form cannot be used to flood a mailbox
}


class RateLimited(Exception):
    def __init__(self, name: str, retry_after: int):
        super().__init__(f"too many {name} requests; try again in {retry_after} s")
        self.name, self.retry_after = name, retry_after


def hit(name: str, who: str, now: float | None = None) -> None:
    """Count one `name` action by `who`; raise RateLimited when over the limit for this window."""
    if not settings.PAPERBOARD_RATELIMIT_ENABLED:
        return

    limit, window = LIMITS[name]
    now = time.time() if now is None else now
    start = int(now // window * window)
    key = f"{name}:{who}"[:200]
    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=start, count=1)
            except IntegrityError:  # another process created it first
                RateCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
        count = RateCounter.objects.filter(key=key, window_start=start).values_list("count", flat=True).first()
    if count and count > limit:
        raise RateLimited(name, max(1, math.ceil(start + window - now)))


def too_many(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """The 429 answer: JSON for the API and htmx-free clients asking for JSON, a page otherwise."""
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = HttpResponse(
            json.dumps({"error": str(exc), "code": "rate_limited"}), status=429, content_type="application/json"
        )
    else:
        response = render(request, "papers/error.html", {"message": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def limit(name: str, by: str = "user"):
    """Decorate a view: count POSTs by user id (`by="user"`, falling back to IP) or by IP (`by="ip"`)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST":
                user = getattr(request, "user", None)
                who = f"u{user.pk}" if by == "user" and user is not None and user.is_authenticated else client_ip(request)
                try:
                    hit(name, who)
                except RateLimited as exc:
                    return too_many(request, exc)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
