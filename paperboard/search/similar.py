"""Similar papers: the nearest neighbours of a paper's embedding, itself and hidden papers excluded.

A paper without an embedding yet (imported after the last `paperboard index`) is embedded on the fly,
one paper, and the vector is stored, so the indexer will not embed it again. Nothing is shown while no
paper at all has an embedding (the model is then not even loaded), nor when PAPERBOARD_SEMANTIC_LIVE_EMBED
is off and the paper has no stored vector.
"""

from __future__ import annotations

from django.core.cache import cache

from paperboard.papers import freshness, queries
from paperboard.papers.models import Paper
from paperboard.search import semantic
from paperboard.search.hits import Hit
from paperboard.search.semantic import embed, store

DEFAULT_LIMIT = 6
CACHE_SECONDS = 600


def similar_hits(paper: Paper | queries.Card, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """Nearest visible neighbours of `paper`. Cached per process for the current version of the vectors
    and of the data (hiding a paper bumps the data version), so logged-in page views, which skip the page
    cache, do not search again."""
    if paper is None or paper.pk is None or limit <= 0:
        return []
    state = store.read_state()
    if state is None or state.count == 0:
        return []
    key = f"similar:{embed.model_key()}:{state.epoch}:{state.max_seq}:{freshness.data_version()}:{paper.pk}:{limit}"
    hits = cache.get(key)
    if hits is None:
        vec = semantic.vectors_for([paper]).get(paper.pk)
        hits = [] if vec is None else semantic.search_vector(vec, limit, exclude_ids={paper.pk})
        if vec is not None:
            cache.set(key, hits, CACHE_SECONDS)
    return hits


def similar_papers(paper: Paper | queries.Card, limit: int = DEFAULT_LIMIT) -> list[queries.Card]:
    """The cards of up to `limit` visible papers most like `paper`, best first, each with `.similarity`
    (cosine)."""
    hits = similar_hits(paper, limit)
    cards = queries.load_cards([h.paper_id for h in hits])
    score = {h.paper_id: h.score for h in hits}
    for c in cards:
        c.similarity = score[c.pk]
    return cards
