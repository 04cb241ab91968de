"""Stream the records of a large XML document in bounded memory.

`units(stream, tags)` reads the document in chunks with expat and yields, in document order:

- `Unit(root_tag, None, root=True)` once, for the root element, as soon as it starts;
- `Unit(tag, element)` for every element whose tag is in `tags` (an Atom `<entry>`, an OAI-PMH
  `<record>`...), once it is complete, as an ElementTree element; anything outside such elements is
  read and dropped. An element over MAX_XML_RECORD_BYTES (its text plus its markup) is not built: it
  comes as `Unit(tag, None)` for the caller to reject, and the document goes on.

Malformed XML, a single tag over MAX_XML_TOKEN_BYTES and entity declarations (the "billion laughs"
entity expansion) raise `ET.ParseError` after the units before them have been yielded.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeVar
from xml.parsers import expat

from paperboard.ingest.limits import MAX_XML_RECORD_BYTES, MAX_XML_TOKEN_BYTES, size

Page = TypeVar("Page")

CHUNK = 64 * 1024
ELEMENT_COST = 64  # what one element counts against the cap, besides its tag, attributes and text


@dataclass(slots=True)
class Unit:
    tag: str
    element: ET.Element | None  # None: the root (root=True), or a unit over MAX_XML_RECORD_BYTES
    root: bool = False


def _name(name: str) -> str:
    """expat's "namespace}local" as ElementTree's "{namespace}local"."""
    return "{" + name if "}" in name else name


class _Builder:
    """expat handlers that build only the wanted elements, and only while they stay under the cap."""

    def __init__(self, tags: set[str], limit: int):
        self.tags, self.limit = tags, limit
        self.ready: list[Unit] = []
        self.depth = 0
        self.unit_depth = 0  # depth of the unit being read; 0 outside units
        self.tree: ET.TreeBuilder | None = None  # None outside units and once a unit is over the cap
        self.used = 0
        self.seen_root = False

    def _charge(self, amount: int) -> bool:
        self.used += amount
        if self.used > self.limit:
            self.tree = None
        return self.tree is not None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        tag = _name(name)
        if not self.seen_root:
            self.seen_root = True
            self.ready.append(Unit(tag, None, root=True))
            return
        if not self.unit_depth:
            if tag not in self.tags:
                return
            self.unit_depth, self.used, self.tree = self.depth, 0, ET.TreeBuilder()
        if self.tree is None:
            return
        attrib = {_name(k): v for k, v in attrs.items()}
        cost = ELEMENT_COST + len(tag) + sum(len(k) + len(v) for k, v in attrib.items())
        if self._charge(cost):
            self.tree.start(tag, attrib)  # type: ignore[union-attr]

    def data(self, text: str) -> None:
        if self.tree is not None and self._charge(len(text)):
            self.tree.data(text)

    def end(self, name: str) -> None:
        if self.unit_depth:
            if self.tree is not None:
                self.tree.end(_name(name))
            if self.depth == self.unit_depth:
                element = self.tree.close() if self.tree is not None else None
                self.ready.append(Unit(_name(name), element))
                self.unit_depth, self.tree = 0, None
        self.depth -= 1


def _no_entities(*_args: object) -> None:
    raise ET.ParseError("entity declarations are not allowed")


def units(stream: BinaryIO, tags: set[str]) -> Iterator[Unit]:
    builder = _Builder(tags, MAX_XML_RECORD_BYTES)
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = _no_entities
    fed = 0
    while True:
        chunk = stream.read(CHUNK)
        error: Exception | None = None
        try:
            parser.Parse(chunk, not chunk)
        except expat.ExpatError as exc:
            error = ET.ParseError(str(exc))
        except ET.ParseError as exc:
            error = exc
        fed += len(chunk)
        yield from builder.ready
        builder.ready.clear()
        if error is not None:
            raise error
        if not chunk:
            return
        if fed - parser.CurrentByteIndex > MAX_XML_TOKEN_BYTES:
            raise ET.ParseError(f"a tag longer than {size(MAX_XML_TOKEN_BYTES)} at byte {parser.CurrentByteIndex}")


def whole_page(iterate: Callable[[BinaryIO, str, Page], Iterator], data: bytes, source: str, page: Page) -> Page:
    """Parse one whole response held in memory (a harvester's page) with a format's `iterate(stream, source,
    page)`, which notes what it finds besides records on `page`; the records go to `page.records`."""
    page.records = list(iterate(io.BytesIO(data), source, page))
    return page
