from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result before the paper is loaded: which paper, how well it matched, and by what."""

    paper_id: int
    score: float
    source: str  # "lexical", "semantic" or "hybrid"
