"""The search service: everything outside the search package asks for search results here.

    Search(request)                                   a search page's parameters, parsed and clamped
    search(query, *, offset, limit, mode, sort, ...)  -> Page(papers, more): ranked, loaded, highlighted
    suggest(text)                                     -> (parsed query, papers): the header box's matches
    api_items(q, limit, sort, mode)                   -> the API's daily-item-shaped results
    similar(paper, limit)                             -> papers most like `paper` (see similar.py)
    for_you(user, limit)                              -> the reader's "For you" feed (see foryou.py)
    canonical_category(code)                          -> the stored spelling of a category, or None

A search goes: `hybrid.run` (keyword ranking from `lexical`, semantic ranking from `semantic`, fused) ->
`papers.queries.load_cards` (the cards of the hits) -> `lexical.highlights` (snippets). `query.parse` reads the text.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple
from urllib.parse import urlencode

from django.http import HttpRequest

from paperboard.papers import queries, shapes
from paperboard.papers.cards import Card
from paperboard.papers.models import Paper, PaperCategory
from paperboard.search import foryou, hybrid, lexical
from paperboard.search import query as querylang
from paperboard.search import similar as similar_papers
from paperboard.search.hits import Hit
from paperboard.search.query import Query

log = logging.getLogger("paperboard.search")

PAGE_SIZE = 20
MAX_PAGE = hybrid.MAX_RESULTS // PAGE_SIZE - 1
SUGGESTIONS = 8
SORTS = {"relevance": "Relevance", "newest": "Newest", "upvotes": "Most upvoted"}
MODES = hybrid.MODES

parse = querylang.parse


class Page(NamedTuple):
    papers: list[Card]  # with .hit (and .snippet)
    more: bool  # whether results follow this page


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
        self.mode = get.get("mode") if get.get("mode") in MODES else "hybrid"
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


def search(query: Query, *, offset: int = 0, limit: int = PAGE_SIZE, mode: str = "hybrid",
           sort: str = "relevance", prefix: bool = False, snippets: bool = True) -> Page:
    """Papers `offset`..`offset+limit` of the search, with `.snippet` (highlighted title and excerpt;
    not with `snippets=False`, for answers that do not show them), and whether there are more."""
    if query.is_empty:
        return Page([], False)
    hits = hybrid.run(query, offset + limit + 1, mode=mode, sort=sort, prefix=prefix)
    more = len(hits) > offset + limit
    papers = load(hits[offset : offset + limit])
    if not snippets:
        return Page(papers, more)
    marks = lexical.highlights(query, [p.pk for p in papers], prefix=prefix)
    with_plain_snippets([p for p in papers if p.pk not in marks])
    for p in papers:
        if p.pk in marks:
            p.snippet = marks[p.pk]
    return Page(papers, more)


def newest_in_category(code: str, limit: int) -> list[Card]:
    """A category's newest papers, with plain snippets (for a topic with nothing on the feed yet)."""
    return with_plain_snippets(load(lexical.search(Query(categories=(code,)), limit, sort="newest")))


def load(hits: list[Hit]) -> list[Card]:
    """The cards of `hits`, in order, each with its `.hit`; papers hidden or gone meanwhile are left out."""
    cards = queries.load_cards([h.paper_id for h in hits])
    by_id = {h.paper_id: h for h in reversed(hits)}  # the first hit of a paper wins
    for c in cards:
        c.hit = by_id[c.pk]
    return cards


def suggest(text: str) -> tuple[Query, list[Card]]:
    """The header box's results as you type: the first few keyword matches of `text` (a trailing space
    means the last word is finished; otherwise it may still be growing)."""
    parsed = querylang.parse(text)
    if parsed.arxiv_id or parsed.is_empty:
        return parsed, []
    return parsed, search(parsed, limit=SUGGESTIONS, mode="lexical", prefix=not text.endswith(" ")).papers


def result_json(p: Card) -> dict:
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


def api_items(q: str, limit: int, sort: str = "relevance", mode: str = "hybrid") -> list[dict]:
    """`GET /api/papers/search`: the Hub's list of daily-item-shaped results (see docs/search.md)."""
    papers, _ = search(querylang.parse(q), limit=limit, sort=sort, mode=mode, snippets=False)
    return [result_json(p) for p in papers]


def similar(paper: Paper | Card, limit: int = similar_papers.DEFAULT_LIMIT) -> list[Card]:
    """Up to `limit` visible papers most like `paper`, best first, each with `.similarity`."""
    return similar_papers.similar_papers(paper, limit)


def similar_section(request, paper) -> dict:
    """The paper page's "similar papers" section ([] on any error: a broken index must not take the page down)."""
    try:
        return {"similar": similar(paper)}
    except Exception:
        log.exception("similar papers of %s failed", paper.arxiv_id)
        return {"similar": []}


def for_you(user, limit: int = foryou.DEFAULT_LIMIT, today: dt.date | None = None) -> foryou.Feed:
    """The reader's "For you" feed (see foryou.py)."""
    return foryou.recommend(user, limit=limit, today=today)


def with_plain_snippets(papers: list[Card]) -> list[Card]:
    for p in papers:
        p.snippet = lexical.Snippet(lexical.marked_html(p.title), lexical.plain_excerpt(p.abstract))
    return papers


def canonical_category(code: str) -> str | None:
    """The stored spelling of a category code (`cs.lg` -> `cs.LG`), or None when no paper has it."""
    if PaperCategory.objects.filter(code=code).exists():
        return code
    return PaperCategory.objects.filter(code__iexact=code).values_list("code", flat=True).first()
