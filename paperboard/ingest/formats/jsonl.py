"""JSON Lines: the arXiv bulk-metadata snapshot ("arxiv-metadata-oai-snapshot"), the corpus format
(`id, title, abstract, authors, categories, primary_category, published`) and, line by line,
Hugging Face daily-papers items. The format is decided per line, so mixed files work too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from paperboard.ingest import clean
from paperboard.ingest.formats import hf_daily
from paperboard.ingest.limits import MAX_LINE_BYTES, size
from paperboard.ingest.records import PaperRecord, Rejected

DISCARD_CHUNK = 1 << 20


def read_lines(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[bytes | None]:
    """Yield each line of `stream`; None for a line longer than `limit` bytes, which is read past in
    chunks and never held whole."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(DISCARD_CHUNK)
            yield None
            continue
        yield line


def parse(stream: BinaryIO, source: str) -> Iterator[PaperRecord | Rejected]:
    for lineno, raw in enumerate(read_lines(stream), start=1):
        where = f"line {lineno}"
        if raw is None:
            yield Rejected(source, where, f"line longer than {size(MAX_LINE_BYTES)}; skipped")
            continue
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            yield Rejected(source, where, f"not valid JSON ({exc})")
            continue
        except RecursionError:
            yield Rejected(source, where, "JSON nested too deeply")
            continue
        if not isinstance(obj, dict):
            yield Rejected(source, where, "a line must hold a JSON object")
            continue
        yield parse_object(obj, source, where)


def parse_object(obj: dict, source: str, where: str) -> PaperRecord | Rejected:
    if isinstance(obj.get("paper"), dict):
        return hf_daily.parse_item(obj, source, where)
    if "versions" in obj or "authors_parsed" in obj or "update_date" in obj:
        return _snapshot(obj, source, where)
    return _corpus(obj, source, where)


def _corpus(obj: dict, source: str, where: str) -> PaperRecord | Rejected:
    categories = obj.get("categories") or []
    primary = obj.get("primary_category")
    if isinstance(categories, list) and isinstance(primary, str) and primary:
        categories = [primary] + [c for c in categories if c != primary]
    return clean.build(
        source,
        where,
        **_shared_fields(obj),
        authors=obj.get("authors") or [],
        categories=categories,
        published=obj.get("published"),
        updated=obj.get("updated"),
        comment=obj.get("comment") or "",
        journal_ref=obj.get("journal_ref") or "",
    )


def _shared_fields(obj: dict) -> dict:
    """The fields the corpus and the snapshot name alike."""
    return {
        "arxiv_id": obj.get("id"),
        "title": obj.get("title"),
        "abstract": obj.get("abstract") or "",
        "doi": obj.get("doi") or "",
    }


def _snapshot_authors(obj: dict) -> list[str] | None:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for part in parsed:
            if not isinstance(part, list):
                return None
            last, first, suffix = (list(part) + ["", "", ""])[:3]
            names.append(" ".join(p.strip() for p in (first, last, suffix) if isinstance(p, str) and p.strip()))
        return names
    text = obj.get("authors")
    if isinstance(text, str):
        return [a.strip() for a in text.replace(" and ", ", ").split(",") if a.strip()]
    return [] if text is None else None


def _snapshot(obj: dict, source: str, where: str) -> PaperRecord | Rejected:
    versions = obj.get("versions") or []
    version = None
    published = updated = None
    if isinstance(versions, list) and versions:
        try:
            first, last = versions[0], versions[-1]
            published, updated = first.get("created"), last.get("created")
            version = int(str(last.get("version", "v1")).lstrip("v"))
        except (AttributeError, ValueError):
            return Rejected(source, where, "versions must be a list of {version, created}")
        if len(versions) == 1:
            updated = None
    authors = _snapshot_authors(obj)
    if authors is None:
        return Rejected(source, where, "authors_parsed must be a list of [last, first, suffix]")
    return clean.build(
        source,
        where,
        **_shared_fields(obj),
        authors=authors,
        categories=obj.get("categories") or "",
        version=version,
        published=published or obj.get("update_date"),
        updated=updated,
        comment=obj.get("comments") or "",
        journal_ref=obj.get("journal-ref") or "",
    )
