"""Feed pages (a day, a week, a month). Each page is also available as JSON (`.json` suffix or
`?format=json`). The paper page is community.views_paper (it shows the discussion too)."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from paperboard.papers import caching, periods, queries, shapes
from paperboard.web import page_number


def _wants_json(request: HttpRequest, fmt: str | None) -> bool:
    return fmt == ".json" or request.GET.get("format") == "json"


def _render_feed(request: HttpRequest, period: periods.Period, fmt: str | None, canonical: bool) -> HttpResponse:
    page = page_number(request)
    size = settings.PAPERBOARD_FEED_PAGE_SIZE
    items = queries.feed(period, offset=page * size, limit=size, user=request.user)
    total = queries.feed_count(period)
    prev, nxt = queries.neighbours(period)
    pages = max(1, math.ceil(total / size))
    if _wants_json(request, fmt):
        return JsonResponse(
            {
                "period": {"kind": period.kind, "slug": period.slug, "label": period.label,
                           "start": period.start.isoformat(), "end": period.end.isoformat()},
                "total": total,
                "page": page,
                "pages": pages,
                "prev": prev.url if prev else None,
                "next": nxt.url if nxt else None,
                "papers": [shapes.daily_item_json(s) for s in items],
            }
        )
    return render(
        request,
        "papers/feed.html",
        {
            "period": period,
            "views": {k: period.as_kind(k) for k in ("date", "week", "month")},
            "items": items,
            "rank_offset": page * size,
            "total": total,
            "page": page,
            "pages": pages,
            "prev_page": page - 1 if page > 0 else None,
            "next_page": page + 1 if page + 1 < pages else None,
            "prev": prev,
            "next": nxt,
            "canonical": period.url if canonical else None,
            "json_url": f"{period.url}.json",
            "feed_period": None if canonical else period,  # /papers follows the latest day's feed
        },
    )


@require_GET
def index(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    """`/papers`: the latest day that has submissions; `?date=` (the date picker) redirects to that day."""
    picked = request.GET.get("date")
    if picked:
        try:
            return redirect(periods.parse("date", picked).url)
        except periods.BadPeriod:
            pass  # a bad picker value falls back to the latest day

    def build() -> HttpResponse:
        day = queries.latest_day()
        if day is None:
            if _wants_json(request, fmt):
                return JsonResponse({"period": None, "total": 0, "papers": []})
            return render(request, "papers/empty.html", {})
        return _render_feed(request, periods.day(day), fmt, canonical=True)

    return caching.cached_response(request, build)


@require_GET
def period_feed(request: HttpRequest, kind: str, slug: str, fmt: str | None = None) -> HttpResponse:
    try:
        period = periods.parse(kind, slug)
    except periods.BadPeriod as exc:
        if _wants_json(request, fmt):
            return JsonResponse({"error": str(exc), "code": "invalid_period"}, status=400)
        return render(request, "papers/error.html", {"message": str(exc)}, status=400)
    return caching.cached_response(request, lambda: _render_feed(request, period, fmt, canonical=False))
