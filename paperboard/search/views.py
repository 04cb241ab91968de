"""Search pages: results, the header box's suggestions, topic (category) pages; and the API's search.

GET /papers/search[.json]?q=&sort=&from=&to=&cat=&code=1&mode=&p=   results (HTML or JSON)
GET /papers/search/suggest?q=                                       results as you type (htmx fragment)
GET /papers/category/<code>[.json]                                  a category's latest feed day and trending

A query that is an arXiv id or URL goes straight to the paper (302); an unknown one is fetched from arXiv
when PAPERBOARD_SEARCH_FETCH_UNKNOWN is on, else the page says it is not in this instance. No input
gives an error page: the query language degrades to plain words (see `query.py`).
"""

from __future__ import annotations

import logging
from collections import Counter
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from paperboard.community import submissions, votes
from paperboard.errors import Refused
from paperboard.papers import caching, periods, queries, shapes
from paperboard.papers.models import Paper, PaperCategory
from paperboard.search import query as querylang
from paperboard.search import service

log = logging.getLogger(__name__)

def _cached(request: HttpRequest, build) -> HttpResponse:
    """`caching.cached_response`, except for very long URLs (one-off queries; keys too long for memcached)."""
    if len(request.get_full_path()) > 200:
        return build()
    return caching.cached_response(request, build)


def _wants_json(request: HttpRequest, fmt: str | None) -> bool:
    return fmt == ".json" or request.GET.get("format") == "json"


def _id_paste(request: HttpRequest, arxiv_id: str, as_json: bool) -> HttpResponse:
    """An arXiv id or URL was searched: go to the paper, fetching it first if allowed; else say so."""
    paper = Paper.objects.filter(arxiv_id=arxiv_id).only("pk", "hidden").first()
    reason = ""
    if paper is None and getattr(settings, "PAPERBOARD_SEARCH_FETCH_UNKNOWN", False):
        try:
            paper = submissions.fetch_from_arxiv(arxiv_id)
        except Refused as exc:
            reason = exc.message
        except Exception:  # noqa: BLE001 - a search never becomes an error page
            log.warning("fetching %s from arXiv for a search failed", arxiv_id, exc_info=True)
            reason = "arXiv could not be reached just now."
    if paper is not None and not paper.hidden:
        return redirect(f"/papers/{arxiv_id}" + (".json" if as_json else ""))
    arxiv_url = f"https://arxiv.org/abs/{arxiv_id}"
    if as_json:
        return JsonResponse(
            {"query": request.GET.get("q", ""), "arxivId": arxiv_id, "found": False, "arxivUrl": arxiv_url,
             "reason": reason, "results": []}
        )
    return render(
        request,
        "search/not_here.html",
        {"arxiv_id": arxiv_id, "arxiv_url": arxiv_url, "reason": reason, "search_q": request.GET.get("q", "")},
    )


@require_GET
def search_page(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    s = service.Search(request)
    as_json = _wants_json(request, fmt)
    if s.parsed.arxiv_id:
        return _id_paste(request, s.parsed.arxiv_id, as_json)

    def build() -> HttpResponse:
        papers, more = service.search(
            s.query, offset=s.page * service.PAGE_SIZE, limit=service.PAGE_SIZE, mode=s.mode, sort=s.sort
        )
        if as_json:
            return JsonResponse(
                {
                    "query": s.q,
                    "parsed": _parsed_json(s.query),
                    "sort": s.sort,
                    "mode": s.mode,
                    "page": s.page,
                    "next": f"/papers/search.json?{s.params(p=s.page + 1)}" if more else None,
                    "prev": f"/papers/search.json?{s.params(p=s.page - 1 or None)}" if s.page else None,
                    "results": [service.result_json(p) for p in papers],
                }
            )
        return render(
            request,
            "search/results.html",
            {
                "s": s,
                "search_q": s.q,
                "items": papers,
                "voted_ids": votes.voted_ids(request.user, [p.pk for p in papers]),
                "rank_offset": s.page * service.PAGE_SIZE,
                "last_rank": s.page * service.PAGE_SIZE + len(papers),
                "more": more,
                "next_url": f"/papers/search?{s.params(p=s.page + 1)}" if more else None,
                "prev_url": f"/papers/search?{s.params(p=s.page - 1 or None)}" if s.page else None,
                "sort_urls": [
                    (k, label, f"/papers/search?{s.params(sort=k, p=None)}") for k, label in service.SORTS.items()
                ],
                "json_url": f"/papers/search.json?{s.params()}",
                "applied": querylang.to_text(s.query),
                "sorts": service.SORTS,
            },
        )

    return _cached(request, build)


def _parsed_json(q: querylang.Query) -> dict:
    return {
        "terms": list(q.terms),
        "phrases": list(q.phrases),
        "excluded": list(q.excluded),
        "authors": list(q.authors),
        "categories": list(q.categories),
        "after": q.after.isoformat() if q.after else None,
        "before": q.before.isoformat() if q.before else None,
        "hasCode": q.has_code,
    }


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """The header box's results as you type: an htmx fragment (the first few lexical matches)."""
    q = (request.GET.get("q") or "")[: querylang.MAX_LENGTH]

    def build() -> HttpResponse:
        parsed, papers = service.suggest(q)
        return render(
            request,
            "search/_suggest.html",
            {"q": q, "parsed": parsed, "papers": papers, "all_url": f"/papers/search?{urlencode({'q': q})}"},
        )

    return _cached(request, build)


# ---- Topic pages -----------------------------------------------------------------------------------------

TOPIC_TRENDING = 10
TOPIC_NEWEST = 10
RELATED = 10


@require_GET
def category_page(request: HttpRequest, code: str, fmt: str | None = None) -> HttpResponse:
    as_json = _wants_json(request, fmt)
    canonical = service.canonical_category(code)
    if canonical is None:
        if as_json:
            return JsonResponse({"error": f"no paper has category {code}", "code": "not_found"}, status=404)
        raise Http404(f"no paper has category {code}")
    if canonical != code:
        return redirect(f"/papers/category/{canonical}{fmt or ''}")

    def build() -> HttpResponse:
        in_cat = PaperCategory.objects.filter(code=code).values("paper_id")
        day = queries.visible_submissions().filter(paper_id__in=in_cat).aggregate(d=Max("day"))["d"]
        period = periods.day(day) if day else None
        items = queries.feed(period, category=code, limit=settings.PAPERBOARD_FEED_PAGE_SIZE) if period else []
        trending = queries.feed(sort="trending", category=code, limit=TOPIC_TRENDING)
        # Nothing of this category on the feed yet: show its newest papers instead.
        newest = [] if items else service.newest_in_category(code, TOPIC_NEWEST)
        seen = Counter(
            c
            for p in [*(s.paper for s in [*items, *trending]), *newest]
            for c in dict.fromkeys(p.category_codes)
            if c != code
        )
        related = [c for c, _ in seen.most_common(RELATED)]
        if as_json:
            return JsonResponse(
                {
                    "category": code,
                    "day": day.isoformat() if day else None,
                    "papers": [shapes.daily_item_json(s) for s in items],
                    "trending": [shapes.daily_item_json(s) for s in trending],
                    "newest": [shapes.paper_json(p, p.feed_submission) for p in newest],
                    "related": related,
                }
            )
        return render(
            request,
            "search/category.html",
            {
                "code": code,
                "period": period,
                "items": items,
                "trending": trending,
                "newest": newest,
                "voted_ids": votes.voted_ids(
                    request.user, [*(s.paper_id for s in [*items, *trending]), *(p.pk for p in newest)]
                ),
                "related": related,
                "search_url": f"/papers/search?{urlencode({'q': f'cat:{code} '})}",
                "newest_url": f"/papers/search?{urlencode({'q': f'cat:{code}', 'sort': 'newest'})}",
                "canonical": f"/papers/category/{code}",
                "json_url": f"/papers/category/{code}.json",
            },
        )

    return _cached(request, build)
