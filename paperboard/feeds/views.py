"""Feed views: a view's papers (sources) -> a feed (items) -> RSS, Atom or JSON Feed (render), with ETag,
Last-Modified and 304 (conditional). Every route is in feeds/urls.py; docs/feeds.md lists them.

Anonymous answers go through the response cache like the pages (keyed on the data version); a feed's
absolute links come from PAPERBOARD_BASE_URL, never from the Host header, so one cached answer fits
every reader. Collection feeds are built each time, as their page is: saving a paper in a collection
does not move the data version.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_safe

from paperboard.feeds import conditional, items, links, render, sources
from paperboard.feeds.formats import FORMATS
from paperboard.papers import caching

MAX_CACHED_URL = 200  # longer URLs are one-off searches: served, not stored (as the search page does)


def serve(
    request: HttpRequest, fmt: str, select: Callable[[], sources.Selection], *, cache: bool = True
) -> HttpResponse:
    """The feed of `select()` in format `fmt`; `cache`: through the anonymous response cache."""
    def build() -> HttpResponse:
        try:
            selection = select()
        except sources.BadFeed as exc:
            return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain; charset=utf-8")
        feed = items.build(selection, fmt)
        response = HttpResponse(render.render(feed, fmt), content_type=FORMATS[fmt].content_type)
        return conditional.stamp(response, feed)

    if cache and len(request.get_full_path()) <= MAX_CACHED_URL:
        response = caching.cached_response(request, build)
    else:
        response = build()
    return conditional.answer(request, response)


@require_safe
def daily(request: HttpRequest, fmt: str) -> HttpResponse:
    return serve(request, fmt, lambda: sources.daily(request.GET))


@require_safe
def trending(request: HttpRequest, fmt: str) -> HttpResponse:
    return serve(request, fmt, sources.trending)


@require_safe
def category(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    canonical = sources.category_code(code)
    if canonical != code:  # `cs.lg` -> `cs.LG`, as the topic page does
        return redirect(links.category(canonical).url(fmt))
    return serve(request, fmt, lambda: sources.category(code))


@require_safe
def search(request: HttpRequest, fmt: str) -> HttpResponse:
    return serve(request, fmt, lambda: sources.search(request))


@require_safe
def author(request: HttpRequest, fmt: str) -> HttpResponse:
    return serve(request, fmt, lambda: sources.author(request.GET))


@require_safe
def collection(request: HttpRequest, username: str, slug: str, fmt: str) -> HttpResponse:
    return serve(request, fmt, lambda: sources.collection(username, slug), cache=False)
