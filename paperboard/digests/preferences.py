"""What a subscriber wants in a digest, stored as JSON on the Subscription and read back leniently
(a value that no longer makes sense falls back to its default instead of failing a send)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from paperboard.search.query import canonical_category, normalise_category

# Sections in the order a digest shows them. `categories` and `topics` are on when the lists are not empty.
SECTIONS = {
    "top": "Top papers of the day",
    "trending": "Trending",
    "for_you": "For you",
    "categories": "New in your categories",
    "topics": "Your topics",
}
CHOOSABLE = ("top", "trending", "for_you")
DEFAULT_SECTIONS = ("top", "trending")
ACCOUNT_SECTIONS = ("top", "trending", "for_you")  # the default for a subscriber with an account
DEFAULT_MAX_PAPERS = 10
MAX_PAPERS = 50
MAX_MIN_UPVOTES = 100_000
MAX_CATEGORIES = 20
MAX_TOPICS = 10
MAX_TOPIC_LENGTH = 200


@dataclass(frozen=True)
class Preferences:
    sections: tuple[str, ...] = DEFAULT_SECTIONS
    categories: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # search-box queries, run through paperboard.search.hybrid
    max_papers: int = DEFAULT_MAX_PAPERS
    min_upvotes: int = 0

    @classmethod
    def from_json(cls, data) -> Preferences:
        data = data if isinstance(data, dict) else {}
        sections = data.get("sections")
        sections = tuple(s for s in CHOOSABLE if s in sections) if isinstance(sections, list) else DEFAULT_SECTIONS
        return cls(
            sections=sections,
            categories=clean_categories(data.get("categories") or []),
            topics=clean_topics(data.get("topics") or []),
            max_papers=_bounded(data.get("max_papers"), 1, MAX_PAPERS, DEFAULT_MAX_PAPERS),
            min_upvotes=_bounded(data.get("min_upvotes"), 0, MAX_MIN_UPVOTES, 0),
        )

    def to_json(self) -> dict:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    def active_sections(self, has_account: bool) -> list[str]:
        """The sections a digest built from these preferences has, in order."""
        on = set(self.sections)
        if not has_account:
            on.discard("for_you")
        if self.categories:
            on.add("categories")
        if self.topics:
            on.add("topics")
        return [s for s in SECTIONS if s in on]


def of(subscription) -> Preferences:
    return Preferences.from_json(subscription.preferences)


def clean_categories(values) -> tuple[str, ...]:
    """arXiv codes (`cs.LG`, or a whole archive such as `math`) in arXiv's spelling; others dropped."""
    out: list[str] = []
    for value in values if isinstance(values, (list, tuple)) else []:
        code = normalise_category(str(value))
        if code:
            code = canonical_category(code)
            if code not in out:
                out.append(code)
    return tuple(out[:MAX_CATEGORIES])


def clean_topics(values) -> tuple[str, ...]:
    out: list[str] = []
    for value in values if isinstance(values, (list, tuple)) else []:
        text = " ".join(str(value).split())[:MAX_TOPIC_LENGTH]
        if text and text not in out:
            out.append(text)
    return tuple(out[:MAX_TOPICS])


def _bounded(value, low: int, high: int, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)
