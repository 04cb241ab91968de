"""arXiv identifiers: validate, strip versions, and pull ids out of arXiv URLs."""

from __future__ import annotations

import re

# New style since 2007-04: YYMM.NNNN (until 2014) or YYMM.NNNNN; old style: archive(.SUBJ)/YYMMNNN.
_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?"
ID_RE = re.compile(rf"^{_ID}$")
URL_RE = re.compile(
    rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/{_ID}(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
# The same pattern for URL routing (no anchors, no named groups).
ROUTE_PATTERN = r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"


class InvalidArxivId(ValueError):
    pass


def _check_digits(bare: str, original: str) -> None:
    """New-style ids have 4 digits after the dot until 1412 and 5 from 1501 on; months run 01-12."""
    if "/" in bare:
        return
    yymm, number = bare.split(".")
    if not 1 <= int(yymm[2:]) <= 12 or (len(number) == 4) != (yymm <= "1412"):
        raise InvalidArxivId(f"not an arXiv id: {original!r}")


def split_version(value: str) -> tuple[str, int | None]:
    """Return (id without version, version or None) for an arXiv id, with or without `arXiv:` and a version.

    Raises InvalidArxivId for anything that is not an arXiv id.
    """
    text = value.strip()
    if text[:6].lower() == "arxiv:":
        text = text[6:]
    m = ID_RE.match(text)
    if not m:
        raise InvalidArxivId(f"not an arXiv id: {value!r}")
    _check_digits(m.group("id"), value)
    version = m.group("version")
    return m.group("id"), int(version) if version else None


def normalise(value: str) -> str:
    """Return the bare arXiv id (no version) for an id or any arXiv abs/pdf/html URL."""
    text = value.strip()
    return parse_id_or_url(text)[0]


def parse_id_or_url(value: str) -> tuple[str, int | None]:
    """Like `split_version`, but also accepts arXiv abs/pdf/html URLs."""
    text = value.strip()
    m = URL_RE.match(text)
    if m:
        _check_digits(m.group("id"), value)
        v = m.group("version")
        return m.group("id"), int(v) if v else None
    return split_version(text)
