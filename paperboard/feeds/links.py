"""Each view's feed: its title and its URL in each format.

One place for both ends: a feed's self link (views.py) and the `<link rel="alternate">` tags a page
carries for its own view (`{% feed_links %}`). Paths come from the routes in feeds/urls.py (reverse).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from paperboard.community.models import Collection
from paperboard.feeds.formats import FORMATS
from paperboard.papers import periods
from paperboard.search import query as querylang
from paperboard.search.service import Search

PERIOD_TITLES = {"date": "Daily Papers", "week": "Weekly Papers", "month": "Monthly Papers"}


@dataclass(frozen=True)
class FeedLink:
    title: str  # names the view: "Weekly Papers — Week 48 of 2026 (Nov 23 – Nov 29)"
    route: str  # URL name in feeds/urls.py
    args: tuple[tuple[str, str], ...] = ()  # the route's arguments other than fmt
    query: str = ""  # query string, without "?"

    def url(self, fmt: str) -> str:
        """Site-relative URL of this feed in format `fmt` (atom, rss, json)."""
        path = reverse(self.route, kwargs={**dict(self.args), "fmt": fmt})
        return f"{path}?{self.query}" if self.query else path

    def alternates(self) -> list[dict[str, str]]:
        """What a page's `<link rel="alternate">` tags need, one per format."""
        return [
            {"type": f.media_type, "href": self.url(f.ext), "title": f"{self.title} ({f.label})"}
            for f in FORMATS.values()
        ]


def daily(period: periods.Period | None = None) -> FeedLink:
    """The feed of a day, week or month; with no period, the latest day's (it moves on by itself)."""
    if not period:  # None, or a template's missing variable
        return FeedLink("Daily Papers", "papers-feed")
    title = f"{PERIOD_TITLES[period.kind]} — {period.label}"
    return FeedLink(title, "papers-feed", query=urlencode({period.kind: period.slug}))


def trending() -> FeedLink:
    return FeedLink("Trending papers", "trending-feed")


def category(code: str) -> FeedLink:
    return FeedLink(f"{code} papers", "category-feed", (("code", code),))


def search(s: Search) -> FeedLink:
    """The feed of a search page: its query and filters, not its page number."""
    label = querylang.to_text(s.query) or s.q
    return FeedLink(f"Search: {label}" if label else "Search", "search-feed", query=s.params(p=None))


def author(name: str) -> FeedLink:
    return FeedLink(f"Papers by {name}", "author-feed", query=urlencode({"name": name}))


def collection(c: Collection) -> FeedLink:
    """A public collection's feed (a private one has none: its feed URL is a 404)."""
    username = c.user.username
    args = (("username", username), ("slug", c.slug))
    return FeedLink(f"{c.name} — a collection by {username}", "collection-feed", args)
