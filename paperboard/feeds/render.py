"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 from one `items.Feed`, as UTF-8 bytes.

Escaping: the XML writer escapes every text and attribute, json.dumps every string. Atom titles and
summaries are `type="text"`, JSON Feed has `content_text`: the abstract goes in as it is. An RSS
`<description>` is HTML by convention, so the plain abstract is HTML-escaped before the XML writer
escapes it again (readers show "a < b", not a broken tag). Dates: RFC 822 in RSS (and RFC 3339 in its
`<atom:updated>`, Atom's element), RFC 3339 (UTC, `Z`) in Atom and JSON Feed.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
from collections.abc import Callable
from email.utils import format_datetime

from django.utils.xmlutils import SimplerXMLGenerator

from paperboard.feeds.formats import ATOM, RSS
from paperboard.feeds.items import SITE, Feed

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ARXIV_SCHEME = "https://arxiv.org/category_taxonomy"  # Atom category scheme: arXiv's codes


def rfc822(when: dt.datetime) -> str:
    return format_datetime(when.astimezone(dt.UTC).replace(microsecond=0), usegmt=True)


def rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _xml(write: Callable[[SimplerXMLGenerator], None]) -> bytes:
    out = io.StringIO()
    doc = SimplerXMLGenerator(out, "utf-8", short_empty_elements=True)
    doc.startDocument()
    write(doc)
    doc.endDocument()
    return out.getvalue().encode("utf-8")


def rss(feed: Feed) -> bytes:
    def write(x: SimplerXMLGenerator) -> None:
        x.startElement("rss", {"version": "2.0", "xmlns:atom": ATOM_NS, "xmlns:dc": DC_NS})
        x.startElement("channel", {})
        x.addQuickElement("title", feed.title)
        x.addQuickElement("link", feed.home_url)
        x.addQuickElement("description", feed.description)
        x.addQuickElement("atom:link", None, {"rel": "self", "type": RSS.media_type, "href": feed.self_url})
        x.addQuickElement("lastBuildDate", rfc822(feed.updated))
        x.addQuickElement("generator", SITE)
        for item in feed.items:
            x.startElement("item", {})
            x.addQuickElement("title", item.title)
            x.addQuickElement("link", item.url)
            x.addQuickElement("guid", item.id, {"isPermaLink": "false"})  # readers open <link>, our page
            x.addQuickElement("description", html.escape(item.summary, quote=False))
            x.addQuickElement("pubDate", rfc822(item.published))
            x.addQuickElement("atom:updated", rfc3339(item.updated))  # RSS has no element of its own for it
            for name in item.authors:
                x.addQuickElement("dc:creator", name)
            for code in item.categories:
                x.addQuickElement("category", code)
            x.endElement("item")
        x.endElement("channel")
        x.endElement("rss")

    return _xml(write)


def _atom_person(x: SimplerXMLGenerator, name: str) -> None:
    x.startElement("author", {})
    x.addQuickElement("name", name)
    x.endElement("author")


def atom(feed: Feed) -> bytes:
    def write(x: SimplerXMLGenerator) -> None:
        x.startElement("feed", {"xmlns": ATOM_NS})
        x.addQuickElement("title", feed.title, {"type": "text"})
        x.addQuickElement("subtitle", feed.description, {"type": "text"})
        x.addQuickElement("id", feed.self_url)
        x.addQuickElement("updated", rfc3339(feed.updated))
        x.addQuickElement("link", None, {"rel": "self", "type": ATOM.media_type, "href": feed.self_url})
        x.addQuickElement("link", None, {"rel": "alternate", "type": "text/html", "href": feed.home_url})
        _atom_person(x, SITE)  # the feed's author: Atom wants one where an entry names none
        x.addQuickElement("generator", SITE)
        for item in feed.items:
            x.startElement("entry", {})
            x.addQuickElement("id", item.id)
            x.addQuickElement("title", item.title, {"type": "text"})
            x.addQuickElement("link", None, {"rel": "alternate", "type": "text/html", "href": item.url})
            x.addQuickElement("link", None, {"rel": "related", "href": item.external_url})
            x.addQuickElement("published", rfc3339(item.published))
            x.addQuickElement("updated", rfc3339(item.updated))
            for name in item.authors:
                _atom_person(x, name)
            for code in item.categories:
                x.addQuickElement("category", None, {"term": code, "scheme": ARXIV_SCHEME})
            x.addQuickElement("summary", item.summary, {"type": "text"})
            x.endElement("entry")
        x.endElement("feed")

    return _xml(write)


def json_feed(feed: Feed) -> bytes:
    items = []
    for item in feed.items:
        entry = {
            "id": item.id,
            "url": item.url,
            "external_url": item.external_url,
            "title": item.title,
            "content_text": item.summary,
            "date_published": rfc3339(item.published),
            "date_modified": rfc3339(item.updated),
            "tags": list(item.categories),
        }
        if item.authors:
            entry["authors"] = [{"name": name} for name in item.authors]
        items.append(entry)
    doc = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.self_url,
        "description": feed.description,
        "items": items,
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


RENDERERS: dict[str, Callable[[Feed], bytes]] = {"atom": atom, "rss": rss, "json": json_feed}


def render(feed: Feed, fmt: str) -> bytes:
    return RENDERERS[fmt](feed)
