"""Text a user sent, made storable: PostgreSQL refuses a NUL character in text, and no database can
store a lone surrogate (JSON can spell one: `"\\ud800"`). The web layer refuses such requests outright
(`web_guard`); the services that store text strip them too, so management commands and other callers
are safe as well."""

from __future__ import annotations


def is_storable(text: str) -> bool:
    """True when `text` has no NUL character and encodes as UTF-8."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(text: str) -> str:
    """`text` without NUL characters and lone surrogates (everything else kept as it is)."""
    if is_storable(text):
        return text
    return text.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")


__all__ = ["is_storable", "storable"]
