"""Text a user sent, made storable: PostgreSQL refuses a NUL character in text, and no database can
store a lone surrogate (JSON can spell one: `"\\ud800"`). The web layer refuses such requests outright
(`web_guard`); the services that store text strip them too, so management commands and other callers
are safe as well."""

from __future__ import annotations

import re

# NUL (PostgreSQL refuses it in text) and lone UTF-16 surrogates (not encodable as UTF-8; JSON lets
# "\\ud800" through). Python strings hold surrogates only as lone code points, so this is exactly the text
# that fails to encode.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """True when `text` has no NUL character and encodes as UTF-8."""
    return UNSTORABLE.search(text) is None


def storable(text: str) -> str:
    """`text` without NUL characters and lone surrogates (everything else kept as it is)."""
    return UNSTORABLE.sub("", text)


__all__ = ["UNSTORABLE", "is_storable", "storable"]
