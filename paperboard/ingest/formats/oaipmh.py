"""OAI-PMH `ListRecords` responses from arXiv (export.arxiv.org/oai2), metadataPrefix `arXiv` or `arXivRaw`.

    <OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
      <ListRecords>
        <record>
          <header [status="deleted"]><identifier>oai:arXiv.org:2501.01234</identifier>…</header>
          <metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/">…</arXiv></metadata>
        </record>…
        <resumptionToken cursor="0" completeListSize="…">…</resumptionToken>
      </ListRecords>
    </OAI-PMH>

- `arXiv`: `<id>`, `<created>` (v1 day), `<updated>` (last version's day, only once revised),
  `<authors><author><keyname/><forenames/><suffix/></author>…</authors>`, `<categories>` (space
  separated, primary first), `<comments>`, `<journal-ref>`, `<doi>`, `<abstract>`. No version number.
- `arXivRaw`: `<version version="vN"><date>RFC 2822</date>…</version>` per version, `<authors>` as one
  string ("A. One, B. Two and C. Three"), the other fields as above.

Deleted records are skipped without a word; records in another metadata format are rejected. An
`<error code="noRecordsMatch">` is an empty answer, any other `<error>` a Rejected for the file.
Records are parsed as they stream in and dropped afterwards (`xmlstream`, bounded memory).
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from paperboard.ingest import clean
from paperboard.ingest.formats import xmlstream
from paperboard.ingest.limits import MAX_XML_RECORD_BYTES, size
from paperboard.ingest.records import PaperRecord, Rejected

OAI = "http://www.openarchives.org/OAI/2.0/"
ARXIV = "http://arxiv.org/OAI/arXiv/"
ARXIV_RAW = "http://arxiv.org/OAI/arXivRaw/"


@dataclass
class OaiPage:
    records: list[PaperRecord | Rejected] = field(default_factory=list)
    resumption_token: str | None = None  # None or empty: this was the last page
    complete_list_size: int | None = None
    error: str | None = None  # an OAI-PMH <error> other than noRecordsMatch, or unreadable XML

    @property
    def papers(self) -> list[PaperRecord]:
        return [r for r in self.records if isinstance(r, PaperRecord)]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _ns(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _fields(elem: ET.Element) -> dict[str, list[ET.Element]]:
    """The children of `elem` by local name (namespaces vary between formats), in document order."""
    out: dict[str, list[ET.Element]] = {}
    for c in elem:
        out.setdefault(_local(c.tag), []).append(c)
    return out


def _text(fields: dict[str, list[ET.Element]], name: str) -> str:
    found = fields.get(name)
    return (found[0].text or "") if found else ""


_PARENS = re.compile(r"\([^()]*\)")
_SEPARATORS = re.compile(r",(?:\s*and\s+)?|\s+and\s+")

# arXivRaw keeps author names as typed, in TeX: Fern\'andez, M{\"u}ller, \v{S}koda, {\o}stergaard.
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
}
_TEX_ACCENT = re.compile(r"\{?\\(['`^\"~=.]|[uvHck](?![A-Za-z]))\s*\{?\s*(\\[ij]|[A-Za-z])\}?\}?")
_TEX_LETTERS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "l": "ł",
    "L": "Ł",
    "oe": "œ",
    "OE": "Œ",
    "i": "ı",
    "j": "ȷ",
}
_TEX_LETTER = re.compile(r"\{?\\(ss|aa|AA|ae|AE|oe|OE|[oOlLij])(?![A-Za-z])\s*\}?")


def detex(name: str) -> str:
    """Turn the TeX accents common in author names into Unicode: "Fern\\'andez" -> "Fernández"."""
    if "\\" not in name:
        return name

    def accent(m: re.Match) -> str:
        base = {"\\i": "i", "\\j": "j"}.get(m.group(2), m.group(2))
        return unicodedata.normalize("NFC", base + _ACCENTS[m.group(1)])

    name = _TEX_ACCENT.sub(accent, name)
    name = _TEX_LETTER.sub(lambda m: _TEX_LETTERS[m.group(1)], name)
    return name.replace("{", "").replace("}", "")


def split_authors(text: str) -> list[str]:
    """Split arXivRaw's author string: "A. One, B. Two (MIT, USA) and C. Three" -> three names.

    Commas and " and " inside parentheses (affiliations) do not split; the affiliations are dropped.
    """
    text = clean.squash(text)
    if "(" not in text and ")" not in text:
        parts = _SEPARATORS.split(text)
        return [detex(n) for n in (p.strip() for p in parts) if n and n.lower() != "and"]
    names: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and ch == ",":
            names.append(text[start:i])
            start = i + 1
        elif depth == 0 and text.startswith(" and ", i):
            names.append(text[start:i])
            start = i + 5
            i += 4
        i += 1
    names.append(text[start:])
    out = []
    for name in names:
        while _PARENS.search(name):
            name = _PARENS.sub(" ", name)
        name = clean.squash(name.replace("(", " ").replace(")", " "))
        if name.lower().startswith("and "):  # "A, B, and C"
            name = name[4:].strip()
        if name:
            out.append(detex(name))
    return out


def _arxiv(meta: ET.Element, header_id: str, source: str, where: str) -> PaperRecord | Rejected:
    f = _fields(meta)
    authors = []
    for authors_el in f.get("authors", [])[:1]:
        for a in _fields(authors_el).get("author", []):
            af = _fields(a)
            parts = (clean.squash(_text(af, "forenames")), clean.squash(_text(af, "keyname")))
            parts += (clean.squash(_text(af, "suffix")),)
            authors.append(" ".join(p for p in parts if p))
    return clean.build(
        source,
        where,
        arxiv_id=_text(f, "id").strip() or header_id,
        title=_text(f, "title"),
        abstract=_text(f, "abstract"),
        authors=authors,
        categories=_text(f, "categories"),
        published=_text(f, "created") or None,
        updated=_text(f, "updated") or None,
        comment=_text(f, "comments"),
        journal_ref=_text(f, "journal-ref"),
        doi=_text(f, "doi"),
    )


def _arxiv_raw(meta: ET.Element, header_id: str, source: str, where: str) -> PaperRecord | Rejected:
    f = _fields(meta)
    versions = []
    for v in f.get("version", []):
        label = (v.get("version") or "").strip().lower()
        try:
            number = int(label.removeprefix("v"))
        except ValueError:
            return Rejected(source, where, f"{_text(f, 'id').strip()}: bad version label {label!r}")
        versions.append((number, _text(_fields(v), "date").strip()))
    versions.sort()
    version = versions[-1][0] if versions else None
    published = versions[0][1] if versions else None
    updated = versions[-1][1] if len(versions) > 1 else None
    return clean.build(
        source,
        where,
        arxiv_id=_text(f, "id").strip() or header_id,
        version=version,
        title=_text(f, "title"),
        abstract=_text(f, "abstract"),
        authors=split_authors(_text(f, "authors")),
        categories=_text(f, "categories"),
        published=published or None,
        updated=updated or None,
        comment=_text(f, "comments"),
        journal_ref=_text(f, "journal-ref"),
        doi=_text(f, "doi"),
    )


_FORMATS = {"arXiv": _arxiv, "arXivRaw": _arxiv_raw}


def parse_record(record: ET.Element, source: str, where: str) -> PaperRecord | Rejected | None:
    """One `<record>`: a PaperRecord, a Rejected, or None for a deleted record."""
    parts = _fields(record)
    if not parts.get("header"):
        return Rejected(source, where, "record has no <header>")
    header = parts["header"][0]
    if header.get("status") == "deleted":
        return None
    identifier = clean.squash(_text(_fields(header), "identifier"))
    header_id = identifier.rpartition(":")[2] if identifier.startswith("oai:") else identifier
    metadata = parts.get("metadata", [None])[0]
    meta = next(iter(metadata), None) if metadata is not None else None
    if meta is None:
        return Rejected(source, where, f"{identifier or 'record'}: no metadata")
    name = _local(meta.tag)
    handler = _FORMATS.get(name)
    if handler is None or _ns(meta.tag) not in ("", ARXIV, ARXIV_RAW):
        return Rejected(
            source,
            where,
            f"{identifier or 'record'}: unsupported metadata format {name!r} "
            "(use metadataPrefix arXiv or arXivRaw)",
        )
    return handler(meta, header_id, source, where)


_RECORD = {f"{{{OAI}}}record", "record"}
_TOKEN = {f"{{{OAI}}}resumptionToken", "resumptionToken"}
_ERROR = {f"{{{OAI}}}error", "error"}
_UNITS = _RECORD | _TOKEN | _ERROR


def _iter(stream: BinaryIO, source: str, page: OaiPage) -> Iterator[PaperRecord | Rejected]:
    n = 0
    try:
        for unit in xmlstream.units(stream, _UNITS):
            tag, elem = unit.tag, unit.element
            if unit.root:
                if _local(tag) != "OAI-PMH":
                    page.error = f"not an OAI-PMH response (root element {tag!r})"
                    yield Rejected(source, "file", page.error)
                    return
            elif tag in _RECORD:
                n += 1
                if elem is None:
                    yield Rejected(source, f"record {n}", f"record larger than {size(MAX_XML_RECORD_BYTES)}; skipped")
                    continue
                item = parse_record(elem, source, f"record {n}")
                if item is not None:
                    yield item
            elif elem is None:
                page.error = f"<{_local(tag)}> larger than {size(MAX_XML_RECORD_BYTES)}"
                yield Rejected(source, "file", page.error)
            elif tag in _TOKEN:
                page.resumption_token = (elem.text or "").strip() or None
                size_attr = elem.get("completeListSize")
                if size_attr and size_attr.isdigit():
                    page.complete_list_size = int(size_attr)
            elif tag in _ERROR:
                code = elem.get("code", "")
                if code != "noRecordsMatch":
                    page.error = f"OAI-PMH error {code}: {clean.squash(elem.text)}".rstrip(": ")
                    yield Rejected(source, "file", page.error)
    except ET.ParseError as exc:
        page.error = f"not well-formed XML ({exc})"
        yield Rejected(source, "file", page.error)


def parse(stream: BinaryIO, source: str) -> Iterator[PaperRecord | Rejected]:
    """Yield one PaperRecord or Rejected per (not deleted) record of a saved ListRecords response."""
    yield from _iter(stream, source, OaiPage())


def parse_page(data: bytes, source: str) -> OaiPage:
    """Parse one whole response, keeping its resumption token for the next request."""
    return xmlstream.whole_page(_iter, data, source, OaiPage())
