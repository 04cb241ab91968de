"""arXiv API responses: an Atom 1.0 feed with arXiv and OpenSearch extensions.

    <feed xmlns="http://www.w3.org/2005/Atom">
      <opensearch:totalResults>…</opensearch:totalResults>   (also startIndex, itemsPerPage)
      <entry>
        <id>http://arxiv.org/abs/2501.01234v2</id>            id and version
        <published>…</published>                              v1 submitted
        <updated>…</updated>                                  this version submitted
        <title>…</title> <summary>…</summary>
        <author><name>…</name></author>…                      in order
        <arxiv:comment/> <arxiv:journal_ref/> <arxiv:doi/>
        <arxiv:primary_category term="cs.LG"/> <category term="…"/>…
      </entry>
    </feed>

The API reports a bad query as a feed holding one entry whose id is `http://arxiv.org/api/errors#…`,
with the message in its summary; that entry becomes a Rejected. The stream is read in chunks
(`xmlstream`) and each entry is dropped once parsed, so large saved responses parse in bounded memory.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from paperboard.ingest import clean
from paperboard.ingest.formats import xmlstream
from paperboard.ingest.limits import MAX_XML_RECORD_BYTES, size
from paperboard.ingest.records import PaperRecord, Rejected
from paperboard.papers import ids

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"

ERROR_ID_PREFIXES = ("http://arxiv.org/api/errors", "https://arxiv.org/api/errors")


@dataclass
class AtomPage:
    """One parsed API response, with the OpenSearch paging numbers the harvester needs."""

    records: list[PaperRecord | Rejected] = field(default_factory=list)
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None
    error: str | None = None  # the API's error message, or why the document is not readable XML
    malformed: bool = False  # the document is not well-formed XML (truncated download, HTML error page)

    @property
    def papers(self) -> list[PaperRecord]:
        return [r for r in self.records if isinstance(r, PaperRecord)]


def _tag(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


ENTRY = _tag(ATOM, "entry")
FEED = _tag(ATOM, "feed")
_META = {
    _tag(OPENSEARCH, "totalResults"): "total_results",
    _tag(OPENSEARCH, "startIndex"): "start_index",
    _tag(OPENSEARCH, "itemsPerPage"): "items_per_page",
}
_UNITS = {ENTRY, *_META}


def _text(elem: ET.Element, tag: str) -> str:
    child = elem.find(tag)
    return (child.text or "") if child is not None else ""


def is_error_entry(entry_id: str) -> bool:
    return entry_id.strip().startswith(ERROR_ID_PREFIXES)


def parse_entry(entry: ET.Element, source: str, where: str) -> PaperRecord | Rejected:
    """Turn one `<entry>` element into a PaperRecord, or a Rejected with the reason."""
    entry_id = _text(entry, _tag(ATOM, "id")).strip()
    if is_error_entry(entry_id):
        message = clean.squash(_text(entry, _tag(ATOM, "summary"))) or entry_id
        return Rejected(source, where, f"arXiv API error: {message}")
    if not entry_id:
        return Rejected(source, where, "entry has no <id>")
    try:
        bare, version = ids.parse_id_or_url(entry_id)
    except ValueError:
        return Rejected(source, where, f"not an arXiv abs URL or id: {entry_id!r}")

    authors = [_text(a, _tag(ATOM, "name")) for a in entry.findall(_tag(ATOM, "author"))]
    categories: list[str] = []
    primary = entry.find(_tag(ARXIV, "primary_category"))
    if primary is not None and primary.get("term"):
        categories.append(primary.get("term", ""))
    categories += [c.get("term", "") for c in entry.findall(_tag(ATOM, "category")) if c.get("term")]

    published = _text(entry, _tag(ATOM, "published")).strip() or None
    updated = _text(entry, _tag(ATOM, "updated")).strip() or None
    if updated is not None and (updated == published or version == 1):
        # The API repeats v1's date as <updated> for unrevised papers; other sources leave it empty.
        updated = None
    return clean.build(
        source,
        where,
        arxiv_id=bare,
        version=version,
        title=_text(entry, _tag(ATOM, "title")),
        abstract=_text(entry, _tag(ATOM, "summary")),
        authors=authors,
        categories=categories,
        published=published,
        updated=updated,
        comment=_text(entry, _tag(ARXIV, "comment")),
        journal_ref=_text(entry, _tag(ARXIV, "journal_ref")),
        doi=_text(entry, _tag(ARXIV, "doi")),
    )


def _iter(stream: BinaryIO, source: str, page: AtomPage) -> Iterator[PaperRecord | Rejected]:
    """Yield the entries of a feed as they are read; fill `page`'s paging numbers on the way."""
    n = 0
    try:
        for unit in xmlstream.units(stream, _UNITS):
            if unit.root:
                if unit.tag != FEED:
                    page.error = f"not an Atom feed (root element {unit.tag!r})"
                    page.malformed = True
                    yield Rejected(source, "file", page.error)
                    return
            elif unit.tag == ENTRY:
                n += 1
                if unit.element is None:
                    yield Rejected(source, f"entry {n}", f"entry larger than {size(MAX_XML_RECORD_BYTES)}; skipped")
                    continue
                item = parse_entry(unit.element, source, f"entry {n}")
                if isinstance(item, Rejected) and item.reason.startswith("arXiv API error: "):
                    page.error = item.reason.removeprefix("arXiv API error: ")
                yield item
            elif unit.element is not None:
                try:
                    setattr(page, _META[unit.tag], int((unit.element.text or "").strip()))
                except ValueError:
                    pass  # a missing number only disables the harvester's shortcut
    except ET.ParseError as exc:
        page.error = f"not well-formed XML ({exc})"
        page.malformed = True
        yield Rejected(source, "file", page.error)


def parse(stream: BinaryIO, source: str) -> Iterator[PaperRecord | Rejected]:
    """Yield one PaperRecord or Rejected per `<entry>` of a saved arXiv API response."""
    yield from _iter(stream, source, AtomPage())


def parse_feed(data: bytes, source: str) -> AtomPage:
    """Parse one whole API response (the harvester's pages) with its OpenSearch paging numbers."""
    return xmlstream.whole_page(_iter, data, source, AtomPage())
