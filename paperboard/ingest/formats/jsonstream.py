"""Read a JSON document item by item, in bounded memory: a top-level list is decoded one item at a time.

`items(stream)` yields `("record N", item)` for each item of a `[...]` document, or `("file", value)`
for any other document (a `{...}` object, capped at MAX_JSON_OBJECT_BYTES), and
raises `BadJson` (with where it happened) for malformed JSON, an item over its size cap, or nesting
too deep to decode. Items before the problem have been yielded already.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import BinaryIO

from paperboard.ingest.limits import MAX_JSON_ITEM_BYTES, MAX_JSON_OBJECT_BYTES, size

CHUNK = 64 * 1024
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class BadJson(ValueError):
    def __init__(self, where: str, reason: str):
        super().__init__(reason)
        self.where, self.reason = where, reason


class _Text:
    """The decoded text of a byte stream, read chunk by chunk; consumed text is dropped."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf, self.pos, self.eof = "", 0, False

    def more(self) -> bool:
        """Read another chunk; False at the end of the stream."""
        if self.eof:
            return False
        chunk = self.stream.read(CHUNK)
        self.eof = not chunk
        self.buf = self.buf[self.pos :] + self.decoder.decode(chunk, final=self.eof)
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def value(self, where: str, limit: int) -> object:
        """Decode the JSON value that starts here, reading more as needed, up to `limit` characters."""
        self.peek()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > limit:
                    raise BadJson(where, f"larger than {size(limit)}") from None
                if self.more():
                    continue
                raise BadJson(where, f"not valid JSON ({exc.msg})") from None
            except RecursionError:
                raise BadJson(where, "JSON nested too deeply") from None
            if end == len(self.buf) and not self.eof and self.more():
                continue  # a number may go on in the next chunk
            if end - self.pos > limit:
                raise BadJson(where, f"larger than {size(limit)}")
            self.pos = end
            return obj


def items(stream: BinaryIO) -> Iterator[tuple[str, object]]:
    """Yield (where, item) for the items of a top-level JSON list one by one, or ("file", value)."""
    text = _Text(stream)
    try:
        first = text.peek()
        if first != "[":
            yield "file", text.value("file", MAX_JSON_OBJECT_BYTES)
            if text.peek():
                raise BadJson("file", "not valid JSON (extra data after the document)")
            return
        text.pos += 1
        n = 0
        if text.peek() == "]":
            text.pos += 1
        else:
            while True:
                n += 1
                yield f"record {n}", text.value(f"record {n}", MAX_JSON_ITEM_BYTES)
                after = text.peek()
                text.pos += 1
                if after == "]":
                    break
                if after != ",":
                    raise BadJson(f"record {n}", "not valid JSON (expected ',' or ']' after the item)")
        if text.peek():
            raise BadJson("file", "not valid JSON (extra data after the list)")
    except UnicodeDecodeError as exc:
        raise BadJson("file", f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
