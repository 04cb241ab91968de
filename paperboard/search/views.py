"""Search pages: results, the header box's suggestions, topic (category) pages; and the API's search.

GET /papers/search[.json]?q=&sort=&from=&to=&cat=&code=1&mode=&p=   results (HTML or JSON)
GET /papers/search/suggest?q=                                       results as you type (htmx fragment)
GET /papers/category/<code>[.json]                                  a category's latest feed day and trending

A query that is an arXiv id or URL goes straight to the paper (302); an unknown one is fetched from arXiv
when PAPERBOARD_SEARCH_FETCH_UNKNOWN is on, else the page says it is not in this instance. No input
gives an error page: the query language degrades to plain words (see `query.py`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from paperboard.api import shapes
from paperboard.papers import caching, periods, queries
from paperboard.papers.models import Paper, PaperCategory
from paperboard.search import hybrid, lexical
from paperboard.search import query as querylang

log = logging.getLogger(__name__)

PAGE_SIZE = 20
MAX_PAGE = hybrid.MAX_RESULTS // PAGE_SIZE - 1
SUGGESTIONS = 8
SORTS = {"relevance": "Relevance", "newest": "Newest", "upvotes": "Most upvoted"}
API_SORTS = ("relevance", "newest", "upvotes")


def _cached(request: HttpRequest, build) -> HttpResponse:
    """`caching.cached_response`, except for very long URLs (one-off queries; keys too long for memcached)."""
    if len(request.get_full_path()) > 200:
        return build()
    return caching.cached_response(request, build)


def _wants_json(request: HttpRequest, fmt: str | None) -> bool:
    return fmt == ".json" or request.GET.get("format") == "json"


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except (TypeError, ValueError):
        return default


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    return querylang.parse_date(value.strip()[:10])


def _categories(request: HttpRequest) -> list[str]:
    """`cat` parameters; each may hold several codes separated by commas or spaces."""
    codes = []
    for value in request.GET.getlist("cat"):
        for part in value.replace(",", " ").split():
            code = querylang.normalise_category(part)
            if code:
                codes.append(code)
    return list(dict.fromkeys(codes))[:10]


class Search:
    """A search request's parameters, parsed and clamped (nothing here raises)."""

    def __init__(self, request: HttpRequest):
        get = request.GET
        self.q = (get.get("q") or "")[: querylang.MAX_LENGTH]
        self.sort = get.get("sort") if get.get("sort") in SORTS else "relevance"
        self.mode = get.get("mode") if get.get("mode") in hybrid.MODES else "hybrid"
        self.after = _date(get.get("from"))
        self.before = _date(get.get("to"))
        self.categories = _categories(request)
        self.has_code = get.get("code") in ("1", "on", "true", "yes")
        self.page = min(max(0, _int(get.get("p"))), MAX_PAGE)
        self.parsed = querylang.parse(self.q)
        self.query = self.parsed.with_filters(
            after=self.after, before=self.before, categories=self.categories, has_code=self.has_code
        )

    def params(self, **change) -> str:
        values = {
            "q": self.q,
            "sort": self.sort if self.sort != "relevance" else "",
            "mode": self.mode if self.mode != "hybrid" else "",
            "from": self.after.isoformat() if self.after else "",
            "to": self.before.isoformat() if self.before else "",
            "cat": ",".join(self.categories),
            "code": "1" if self.has_code else "",
            "p": str(self.page) if self.page else "",
        }
        values.update({k: ("" if v is None else str(v)) for k, v in change.items()})
        if values["sort"] == "relevance":
            values["sort"] = ""
        return urlencode({k: v for k, v in values.items() if v})

    @property
    def filtered(self) -> bool:
        return bool(self.after or self.before or self.categories or self.has_code)


def results(search_query: querylang.Query, *, offset: int, limit: int, mode: str = "hybrid",
            sort: str = "relevance", prefix: bool = False, snippets: bool = True) -> tuple[list[Paper], bool]:
    """Papers `offset`..`offset+limit` of the search, with `.snippet` (highlighted title and excerpt;
    not with `snippets=False`, for answers that do not show them), and whether there are more."""
    hits = hybrid.run(search_query, offset + limit + 1, mode=mode, sort=sort, prefix=prefix)
    more = len(hits) > offset + limit
    papers = hybrid.load(hits[offset : offset + limit])
    if not snippets:
        return papers, more
    marks = lexical.highlights(search_query, [p.pk for p in papers], prefix=prefix)
    _with_plain_snippets([p for p in papers if p.pk not in marks])
    for p in papers:
        if p.pk in marks:
            p.snippet = marks[p.pk]
    return papers, more


def result_json(p: Paper) -> dict:
    """One search result: the Hub's daily-item shape (so HfApi.list_papers reads it) plus the match."""
    s = p.feed_submission
    return {
        "paper": shapes.paper_json(p, s),
        "publishedAt": shapes.iso(s.submitted_at) if s else None,  # on the feed (the Hub's meaning)
        "title": p.title,
        "summary": p.abstract,
        "thumbnail": "",
        "numComments": p.num_comments,
        "submittedBy": shapes.user_json(s.submitter) if s else None,
        "isAuthorParticipating": False,
        "upvotes": p.upvotes,
        "score": round(p.hit.score, 6),
        "source": p.hit.source,
    }


def _id_paste(request: HttpRequest, arxiv_id: str, as_json: bool) -> HttpResponse:
    """An arXiv id or URL was searched: go to the paper, fetching it first if allowed; else say so."""
    paper = Paper.objects.filter(arxiv_id=arxiv_id).only("pk", "hidden").first()
    reason = ""
    if paper is None and getattr(settings, "PAPERBOARD_SEARCH_FETCH_UNKNOWN", False):
        from paperboard.community import submissions
        from paperboard.community.errors import Refused

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
    s = Search(request)
    as_json = _wants_json(request, fmt)
    if s.parsed.arxiv_id:
        return _id_paste(request, s.parsed.arxiv_id, as_json)

    def build() -> HttpResponse:
        papers, more = ([], False)
        if not s.query.is_empty:
            papers, more = results(s.query, offset=s.page * PAGE_SIZE, limit=PAGE_SIZE, mode=s.mode, sort=s.sort)
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
                    "results": [result_json(p) for p in papers],
                }
            )
        from paperboard.community import votes

        return render(
            request,
            "search/results.html",
            {
                "s": s,
                "search_q": s.q,
                "items": papers,
                "voted_ids": votes.voted_ids(request.user, [p.pk for p in papers]),
                "rank_offset": s.page * PAGE_SIZE,
                "last_rank": s.page * PAGE_SIZE + len(papers),
                "more": more,
                "next_url": f"/papers/search?{s.params(p=s.page + 1)}" if more else None,
                "prev_url": f"/papers/search?{s.params(p=s.page - 1 or None)}" if s.page else None,
                "sort_urls": [(k, label, f"/papers/search?{s.params(sort=k, p=None)}") for k, label in SORTS.items()],
                "json_url": f"/papers/search.json?{s.params()}",
                "applied": querylang.to_text(s.query),
                "sorts": SORTS,
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
        parsed = querylang.parse(q)
        papers: list[Paper] = []
        if not parsed.arxiv_id and not parsed.is_empty:
            # A trailing space means the last word is finished; otherwise it may still be growing.
            prefix = not q.endswith(" ")
            papers, _ = results(parsed, offset=0, limit=SUGGESTIONS, mode="lexical", prefix=prefix)
        return render(
            request,
            "search/_suggest.html",
            {"q": q, "parsed": parsed, "papers": papers, "all_url": f"/papers/search?{urlencode({'q': q})}"},
        )

    return _cached(request, build)


def api_items(q: str, limit: int, sort: str = "relevance", mode: str = "hybrid") -> list[dict]:
    """`GET /api/papers/search`: the Hub's list of daily-item-shaped results (see docs/search.md)."""
    parsed = querylang.parse(q)
    if parsed.is_empty:
        return []
    papers, _ = results(parsed, offset=0, limit=limit, sort=sort, mode=mode, snippets=False)
    return [result_json(p) for p in papers]


# ---- Topic pages -----------------------------------------------------------------------------------------

TOPIC_TRENDING = 10
TOPIC_NEWEST = 10
RELATED = 10


def _with_plain_snippets(papers: list[Paper]) -> list[Paper]:
    for p in papers:
        p.snippet = lexical.Snippet(lexical.marked_html(p.title), lexical.plain_excerpt(p.abstract))
    return papers


def _canonical_category(code: str) -> str | None:
    """The stored spelling of a category code (`cs.lg` -> `cs.LG`), or None when no paper has it."""
    if PaperCategory.objects.filter(code=code).exists():
        return code
    return PaperCategory.objects.filter(code__iexact=code).values_list("code", flat=True).first()


@require_GET
def category_page(request: HttpRequest, code: str, fmt: str | None = None) -> HttpResponse:
    as_json = _wants_json(request, fmt)
    canonical = _canonical_category(code)
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
        newest = [] if items else _with_plain_snippets(
            hybrid.load(lexical.search(querylang.Query(categories=(code,)), TOPIC_NEWEST, sort="newest"))
        )
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
        from paperboard.community import votes

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
