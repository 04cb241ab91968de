"""Detect a file's format from its first bytes and parse it into PaperRecord / Rejected items.

Formats: JSON Lines (arXiv snapshot, corpus, HF items), a HF daily-papers JSON document,
arXiv API Atom, and OAI-PMH ListRecords (arXiv and arXivRaw metadata). Files may be gzipped.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from paperboard.ingest.records import PaperRecord, Rejected

BUFFER = 1 << 20
FORMATS = ("jsonl", "hf-json", "atom", "oai-pmh")


class UnknownFormat(ValueError):
    pass


def _open(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """Open a file, decompressing gzip transparently. Returns (raw file, stream to parse)."""
    raw = open(path, "rb", buffering=BUFFER)  # noqa: SIM115 - closed with the stream by parse_file
    if raw.peek(2)[:2] == b"\x1f\x8b":
        # GzipFile buffers internally; another BufferedReader on top would read ahead in 1 MiB
        # blocks and lose the good records just before a truncation.
        return raw, gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw, raw


def detect(head: bytes) -> str:
    """Name the format of a document from its first few KiB."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "hf-json"
    if text.startswith(b"{"):
        # One object spread over several lines is a JSON document, not JSON Lines.
        first_line = text.split(b"\n", 1)[0].strip()
        return "jsonl" if first_line.endswith(b"}") else "hf-json"
    if text.startswith(b"<"):
        if re.search(rb"<(?:\w+:)?OAI-PMH\b", text):
            return "oai-pmh"
        if re.search(rb"<(?:\w+:)?feed\b", text):
            return "atom"
    raise UnknownFormat("unrecognised format (expected JSON Lines, JSON, arXiv Atom or OAI-PMH XML)")


def parse_stream(stream: BinaryIO, source: str, fmt: str | None = None) -> Iterator[PaperRecord | Rejected]:
    """Yield the records of one (already decompressed) stream; `fmt` skips detection."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream, BUFFER)  # type: ignore[arg-type]
    head = buffered.peek(8192)[:8192]  # type: ignore[union-attr]
    fmt = fmt or detect(head)
    if fmt == "jsonl":
        from paperboard.ingest.formats import jsonl

        yield from jsonl.parse(buffered, source)
    elif fmt == "hf-json":
        from paperboard.ingest.formats import hf_daily

        yield from hf_daily.parse(buffered.read(), source)
    elif fmt == "atom":
        from paperboard.ingest.formats import atom

        yield from atom.parse(buffered, source)
    elif fmt == "oai-pmh":
        from paperboard.ingest.formats import oaipmh

        yield from oaipmh.parse(buffered, source)
    else:
        raise UnknownFormat(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def parse_file(
    path: str | Path, fmt: str | None = None, on_open: Callable[[BinaryIO], None] | None = None
) -> Iterator[PaperRecord | Rejected]:
    """Yield the records of a plain or gzipped file; UnknownFormat is raised before the first record.

    `on_open` receives the raw file object (its position shows progress through a compressed file).
    """
    path = Path(path)
    raw, stream = _open(path)
    if on_open:
        on_open(raw)
    try:
        yield from parse_stream(stream, path.name, fmt)
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        yield Rejected(path.name, "file", f"truncated or unreadable ({exc}); records before it were kept")
    finally:
        stream.close()
        raw.close()
