"""Detect a file's format from its first bytes and parse it into PaperRecord / Rejected items.

Detection reads at most limits.SNIFF_BYTES; every parser reads in bounded pieces (limits.py).

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

from paperboard.ingest.formats import atom, hf_daily, jsonl, oaipmh
from paperboard.ingest.limits import SNIFF_BYTES
from paperboard.ingest.records import PaperRecord, Rejected

BUFFER = 1 << 20
SNIFF_CHUNK = 64 * 1024
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


def detect(head: bytes, final: bool = True) -> str | None:
    """Name the format of a document from its first bytes.

    JSON: `[` is a daily-papers list; `{` is JSON Lines when the whole first line is one `{...}` object
    (it ends with `}`), else one JSON document spread over several lines. XML: the root element.
    With `final` false, None means "read more"; otherwise an undecidable head raises UnknownFormat.
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first = text[:1]
    if first == b"[":
        return "hf-json"
    if first == b"{":
        line, newline, _ = text.partition(b"\n")
        if not newline and not final:
            return None  # the first line is not complete yet
        if not newline and len(head) >= SNIFF_BYTES:
            return "jsonl"  # a first line longer than the sniff limit: JSON Lines rejects it and goes on
        return "jsonl" if line.rstrip().endswith(b"}") else "hf-json"
    if first == b"<":
        if re.search(rb"<(?:\w+:)?OAI-PMH\b", text):
            return "oai-pmh"
        if re.search(rb"<(?:\w+:)?feed\b", text):
            return "atom"
        if not final:
            return None
    elif not first and not final:
        return None
    raise UnknownFormat("unrecognised format (expected JSON Lines, JSON, arXiv Atom or OAI-PMH XML)")


def sniff(stream: BinaryIO) -> tuple[str, bytes]:
    """Read just enough of `stream` to name its format (at most SNIFF_BYTES, in chunks).

    Returns the format and the bytes read, which `_Replay` puts back in front of the rest.
    """
    head = b""
    while True:
        chunk = stream.read(SNIFF_CHUNK)
        head += chunk
        fmt = detect(head, final=not chunk or len(head) >= SNIFF_BYTES)
        if fmt:
            return fmt, head


class _Replay(io.RawIOBase):
    """The bytes `sniff` read, then the rest of the stream, so detection needs no seeking."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self.head = memoryview(head)
        self.stream = stream
        # read1 returns what one decompression step gives: a truncated gzip then loses only the
        # partial record at the break, not a whole buffer of good ones.
        self.read_some = getattr(stream, "read1", stream.read)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.read_some(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def parse_stream(stream: BinaryIO, source: str, fmt: str | None = None) -> Iterator[PaperRecord | Rejected]:
    """Yield the records of one (already decompressed) stream; `fmt` skips detection."""
    if fmt is None:
        fmt, head = sniff(stream)
        stream = io.BufferedReader(_Replay(head, stream), BUFFER)  # type: ignore[assignment]
    if fmt == "jsonl":
        yield from jsonl.parse(stream, source)
    elif fmt == "hf-json":
        yield from hf_daily.parse(stream, source)
    elif fmt == "atom":
        yield from atom.parse(stream, source)
    elif fmt == "oai-pmh":
        yield from oaipmh.parse(stream, source)
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
