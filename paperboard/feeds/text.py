"""Text a feed can carry: XML 1.0 has no control characters, UTF-8 no lone surrogates."""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(text: str | None) -> str:
    """`text` without the characters XML 1.0 or UTF-8 cannot carry (tab and newlines stay)."""
    return _UNSAFE.sub("", text or "")
