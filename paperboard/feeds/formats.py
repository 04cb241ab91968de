"""The three feed formats: the URL's extension, the media type served, the label readers see."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    ext: str  # feed.<ext> in the URL
    media_type: str
    label: str

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


ATOM = Format("atom", "application/atom+xml", "Atom")
RSS = Format("rss", "application/rss+xml", "RSS")
JSON = Format("json", "application/feed+json", "JSON Feed")

FORMATS = {f.ext: f for f in (ATOM, RSS, JSON)}  # in the order pages list them

# The last part of every feed route: `feed.atom`, `feed.rss` or `feed.json`.
ROUTE = r"feed\.(?P<fmt>" + "|".join(FORMATS) + ")"
