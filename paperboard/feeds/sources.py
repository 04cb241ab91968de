"""Which papers each view's feed holds: the pages' own queries and rankings, one page deep.

Each function returns a `Selection`, or raises `BadFeed` (400, the input the page refuses too) or Http404
(no such category or public collection). A feed holds at most PAPERBOARD_FEED_PAGE_SIZE papers.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Max
from django.http import Http404, HttpRequest, QueryDict

from paperboard.community import collections
from paperboard.community.models import CollectionItem
from paperboard.errors import Refused
from paperboard.feeds import links
from paperboard.feeds.text import clean
from paperboard.papers import periods, queries
from paperboard.papers.models import Paper, Submission
from paperboard.search import query as querylang
from paperboard.search import service

PERIOD_PARAMS = ("date", "week", "month")
AUTHOR_NAME_MAX = 300  # PaperAuthor.name's length


class BadFeed(ValueError):
    """A parameter the view's page would refuse too: answered 400 with this message."""


@dataclass
class Selection:
    link: links.FeedLink  # the feed's title and URLs
    page: str  # site-relative URL of the HTML view this feed follows
    description: str
    papers: list[Paper]  # in the view's order, with author_names and category_codes attached
    touched: list[dt.datetime] = field(default_factory=list)  # when put on the feed or into the collection


def _size() -> int:
    return settings.PAPERBOARD_FEED_PAGE_SIZE


def _of_submissions(link: links.FeedLink, page: str, description: str, items: list[Submission]) -> Selection:
    return Selection(link, page, description, [s.paper for s in items], [s.submitted_at for s in items])


def _of_search(link: links.FeedLink, page: str, description: str, query: querylang.Query, *,
               mode: str = "hybrid", sort: str = "relevance") -> Selection:
    papers = service.search(query, limit=_size(), mode=mode, sort=sort, snippets=False).papers
    on_feed = [p.feed_submission.submitted_at for p in papers if p.feed_submission is not None]
    return Selection(link, page, description, papers, on_feed)


def daily(get: QueryDict) -> Selection:
    """`?date=`, `?week=` or `?month=` as on the pages (most upvoted first); none: the latest day."""
    given = [k for k in PERIOD_PARAMS if get.get(k)]
    if len(given) > 1:
        raise BadFeed(f"give one of date, week or month, not {' and '.join(given)}")
    if given:
        kind = given[0]
        try:
            period = periods.parse(kind, get[kind])
        except periods.BadPeriod as exc:
            raise BadFeed(str(exc)) from None
        description = f"Papers on the feed, {period.label}, most upvoted first."
        items = queries.feed(period, limit=_size())
        return _of_submissions(links.daily(period), period.url, description, items)
    description = "The latest day's papers on the feed, most upvoted first."
    day = queries.latest_day()
    items = queries.feed(periods.day(day), limit=_size()) if day else []
    return _of_submissions(links.daily(), "/papers", description, items)


def trending() -> Selection:
    description = "Papers put on the feed in the last days, ranked by their trending score."
    return _of_submissions(links.trending(), "/papers/trending", description,
                           queries.feed(sort="trending", limit=_size()))


def category_code(code: str) -> str:
    """The stored spelling of a category (`cs.lg` -> `cs.LG`); Http404 when no paper has it."""
    canonical = service.canonical_category(code)  # the topic page's own rule
    if canonical is None:
        raise Http404(f"no paper has category {code}")
    return canonical


def category(code: str) -> Selection:
    """Papers of this category put on the feed, the most recently put first."""
    description = f"{code} papers put on the feed, newest first."
    items = queries.feed(sort="publishedAt", category=code, limit=_size())
    return _of_submissions(links.category(code), f"/papers/category/{code}", description, items)


def _printable(request: HttpRequest) -> HttpRequest:
    """`request` with control characters taken out of its parameters: a feed cannot carry them, and the
    keyword index refuses a NUL inside a word (the search page answers `?q=a%00b` with a 500)."""
    cleaned = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        cleaned.setlist(key, [clean(v) for v in values])
    printable = copy.copy(request)
    printable.GET = cleaned
    return printable


def search(request: HttpRequest) -> Selection:
    """The search page's results for its query, filters, sort and mode (first page)."""
    s = service.Search(_printable(request))
    link = links.search(s)
    description = f"{link.title}: the first page of results, in the search page's order."
    params = s.params(p=None)
    page = f"/papers/search?{params}" if params else "/papers/search"
    return _of_search(link, page, description, s.query, mode=s.mode, sort=s.sort)


def author(get: QueryDict) -> Selection:
    """Papers with an author whose name contains every word of `?name=` (as the search's `author:"…"`),
    newest first."""
    name = " ".join(clean(get.get("name")).split())[:AUTHOR_NAME_MAX]
    if not name:
        raise BadFeed("name the author: ?name=…")
    query = querylang.Query(authors=(name,))
    page = f"/papers/search?{urlencode({'q': querylang.to_text(query), 'sort': 'newest'})}"
    return _of_search(links.author(name), page, f"Papers by {name}, newest first.", query, sort="newest")


def collection(username: str, slug: str) -> Selection:
    """A public collection's papers, the most recently added first; a private one is a 404 for everyone."""
    try:
        c = collections.visible_to(None, username, slug)
    except Refused:
        raise Http404("collection not found") from None
    added = CollectionItem.objects.filter(collection=c).aggregate(t=Max("added"))["t"]
    description = c.description or f"A collection by {username} on Paperboard."
    return Selection(links.collection(c), c.get_absolute_url(), description,
                     collections.papers_in(c)[: _size()], [t for t in (c.created, added) if t])
