"""The feed before it has a format: its metadata, one `Item` per paper, and when it last changed.

An item's id is the paper's arXiv abstract URL: the same in every format and every feed, and it never
changes, so a reader that follows several feeds sees a paper once. Its dates are the paper's on arXiv
(published: version 1; updated: the latest version). The feed's `updated` is the latest change of
anything it shows or ranks by: those dates, a paper's metadata here, its time on the feed or in the
collection, and the newest upvote on its papers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max

from paperboard.absolute import absolute_url
from paperboard.feeds.sources import Selection
from paperboard.feeds.text import clean
from paperboard.papers.models import Paper, Vote

SITE = "Paperboard"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # `updated` of a feed that never held anything


@dataclass(frozen=True)
class Item:
    id: str  # https://arxiv.org/abs/<id>
    title: str
    url: str  # the paper page here, absolute
    external_url: str  # the paper on arXiv
    authors: tuple[str, ...]
    summary: str  # the abstract, plain text
    published: dt.datetime
    updated: dt.datetime
    categories: tuple[str, ...]
    upvotes: int  # not written out; the views rank by it, so it is part of the ETag (conditional.py)


@dataclass(frozen=True)
class Feed:
    title: str
    description: str
    home_url: str  # the HTML view, absolute
    self_url: str  # this feed in this format, absolute
    updated: dt.datetime
    items: tuple[Item, ...]


def item(paper: Paper) -> Item:
    published = paper.published_at or paper.created
    return Item(
        id=paper.abs_url,
        title=clean(paper.title),
        url=absolute_url(paper.get_absolute_url()),
        external_url=paper.abs_url,
        authors=tuple(clean(name) for name in paper.author_names),
        summary=clean(paper.abstract),
        published=published,
        updated=max(published, paper.updated_at or published),
        categories=tuple(paper.category_codes),
        upvotes=paper.upvotes,
    )


def latest_vote(papers: list[Paper]) -> dt.datetime | None:
    """When the newest upvote on any of `papers` was cast (one query)."""
    if not papers:
        return None
    return Vote.objects.filter(paper_id__in=[p.pk for p in papers]).aggregate(t=Max("created"))["t"]


def build(selection: Selection, fmt: str) -> Feed:
    """The feed of `selection` in format `fmt`; its links are on PAPERBOARD_BASE_URL, whatever host was asked."""
    items = tuple(item(p) for p in selection.papers)
    changes = [
        *(i.updated for i in items),
        *(p.modified for p in selection.papers),
        *selection.touched,
        latest_vote(selection.papers),
    ]
    updated = max((t for t in changes if t is not None), default=EPOCH)
    return Feed(
        title=clean(f"{selection.link.title} · {SITE}"),
        description=clean(selection.description),
        home_url=absolute_url(selection.page),
        self_url=absolute_url(selection.link.url(fmt)),
        updated=updated.replace(microsecond=0),  # HTTP dates have whole seconds: keep the feed's in step
        items=items,
    )
