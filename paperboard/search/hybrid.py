"""Hybrid search: the lexical and the semantic ranking fused by reciprocal rank (RRF).

    search(query, limit, sort="relevance") -> list[Hit]     source "hybrid"

RRF: a paper's score is the sum over the two rankings of 1 / (K + rank), rank counted from 1, so a paper
near the top of either list rises and one near the top of both rises most, with no need to make BM25
scores and cosine similarities comparable. K = 20, chosen on the tune half of the evaluation set from 10,
20, 40, 60 (Cormack, Clarke & Büttcher's usual default) and 100, with weights 0.75-1.25 for the semantic
list (1 won): a smaller K lets a paper ranked first by one list count for more. Each list
contributes its top CANDIDATES papers. Upvotes, then recency, only break ties of the fused score.

The semantic side (`paperboard.search.semantic.search(text, limit)`) is imported lazily: when the module,
its dependencies or its embeddings are missing it contributes nothing, and hybrid ranks exactly like
lexical. Semantic hits go through the same filters as lexical ones (dates, categories, authors, has-code,
exclusions, hidden papers) via `lexical.filter_ids`.

Sorting by `newest` or `upvotes` lists the papers whose words match (the lexical set, filters applied),
in that order: "semantic neighbours" have no natural cut-off, so they are only used for relevance.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection

from paperboard.papers.sql import as_datetime
from paperboard.search import lexical
from paperboard.search.hits import Hit
from paperboard.search.lexical.common import id_param, ids_sql
from paperboard.search.query import Query

log = logging.getLogger(__name__)

RRF_K = 20  # chosen on the tune half of the evaluation set (bench/results/search_quality.md)
CANDIDATES = 100  # from each ranking, at least; more when a deeper page is asked for
MAX_RESULTS = 1000  # deepest result a page can ask for
MODES = ("hybrid", "lexical", "semantic")


_embedder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="paperboard-embed")


def start_query_vector(text: str, depth: int = CANDIDATES) -> Future | None:
    """Embed the query and find its nearest papers on a worker thread (torch and numpy leave the GIL while
    they compute), so that the lexical search runs meanwhile; None when semantic search cannot answer now."""
    if not text.strip():
        return None
    try:
        # lazy: optional; torch / sentence-transformers behind it may be missing or broken
        from paperboard.search import semantic

        if not semantic.ready():
            return None
    except Exception as exc:  # noqa: BLE001 - ImportError or an optional dependency failing to load
        log.debug("semantic search unavailable: %s", exc)
        return None
    return _embedder.submit(semantic.prefetch(text, depth))


def semantic_search(text: str, limit: int, vector: Future | None = None) -> list[Hit]:
    """`semantic.search`, or [] when it is unavailable (module, dependencies, embeddings) or fails."""
    if not text.strip() or limit <= 0:
        return []
    try:
        # lazy: optional; torch / sentence-transformers behind it may be missing or broken
        from paperboard.search import semantic
    except Exception as exc:  # noqa: BLE001 - ImportError or an optional dependency failing to load
        log.debug("semantic search unavailable: %s", exc)
        return []
    try:
        if vector is not None:
            vec, first = vector.result()
            return list(semantic.search_vector(vec, limit, first=first)) if vec is not None else []
        return list(semantic.search(text, limit))
    except Exception:
        log.warning("semantic search failed; answering with lexical results only", exc_info=True)
        return []


def rrf(rankings: list[list[Hit]], k: float = RRF_K, weights: list[float] | None = None) -> dict[int, float]:
    """Reciprocal-rank fusion: {paper_id: sum of weight / (k + rank)} over the rankings (rank from 1;
    every weight 1 unless given)."""
    scores: dict[int, float] = {}
    for i, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else float(weights[i])
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.paper_id] = scores.get(hit.paper_id, 0.0) + weight / (k + rank)
    return scores


def _tie_breakers(ids) -> dict[int, tuple[int, float]]:
    ids = list(ids)
    if not ids:
        return {}
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT p.id, p.upvotes, p.published_at FROM papers_paper p WHERE {ids_sql('p.id')}",
            [id_param(ids)],
        )
        rows = cur.fetchall()
    return {pk: (up or 0, _timestamp(pub)) for pk, up, pub in rows}


def _timestamp(value) -> float:
    value = as_datetime(value)
    return value.timestamp() if value else 0.0


def semantic_depth(query: Query, limit: int) -> int:
    """How many semantic hits to fetch for `limit` results: more when filters will drop some."""
    return max(limit, CANDIDATES) if query.has_filters or query.excluded else limit


def semantic_only(query: Query, limit: int, vector: Future | None = None) -> list[Hit]:
    """Semantic hits for q's text, with q's filters applied (`vector`: the query's embedding, under way)."""
    if query.impossible or not query.text:
        return []
    depth = semantic_depth(query, limit)
    hits = semantic_search(query.text, depth, vector)
    if not (query.has_filters or query.excluded):
        return hits[:limit]  # semantic search answers visible papers only: nothing else to check
    keep = lexical.filter_ids(query, [h.paper_id for h in hits]) if hits else set()
    return [h for h in hits if h.paper_id in keep][:limit]


def search(
    query: Query,
    limit: int,
    *,
    sort: str = "relevance",
    k: float = RRF_K,
    lexical_weight: float = 1.0,
    semantic_weight: float = 1.0,
    candidates: int = CANDIDATES,
) -> list[Hit]:
    """The `limit` best papers for `query`: lexical and semantic rankings fused by RRF (see module doc).

    Tuning knobs (defaults are the documented behaviour): `k`, the RRF constant; `lexical_weight` and
    `semantic_weight`, each ranking's weight in the sum; `candidates`, how deep each ranking is read."""
    limit = max(0, min(int(limit), MAX_RESULTS))
    if limit == 0 or query.is_empty or query.impossible:
        return []
    if sort != "relevance" or query.arxiv_id or not query.has_text:
        # Exact sets (newest / upvotes), an id, or filters only: the lexical answer is the answer.
        return [Hit(h.paper_id, h.score, "hybrid") for h in lexical.search(query, limit, sort=sort)]
    depth = max(limit, int(candidates))
    vector = start_query_vector(query.text, semantic_depth(query, depth)) if semantic_weight > 0 else None
    lex = lexical.search(query, depth)
    sem = semantic_only(query, depth, vector) if semantic_weight > 0 else []
    if not sem:
        return [Hit(h.paper_id, lexical_weight / (k + i), "hybrid") for i, h in enumerate(lex[:limit], start=1)]
    fused = rrf([lex, sem], k, [lexical_weight, semantic_weight])
    # Tie-breakers matter only among the papers that can make the page: those scoring at least the
    # `limit`-th best fused score (one small query instead of one over every candidate).
    cut = sorted(fused.values(), reverse=True)[min(limit, len(fused)) - 1]
    ties = _tie_breakers([pid for pid, score in fused.items() if score >= cut])
    order = sorted(fused, key=lambda pid: (-fused[pid], -ties.get(pid, (0, 0.0))[0], -ties.get(pid, (0, 0.0))[1], pid))
    return [Hit(pid, fused[pid], "hybrid") for pid in order[:limit]]


def run(query: Query, limit: int, *, mode: str = "hybrid", sort: str = "relevance", prefix: bool = False) -> list[Hit]:
    """One entry point for the pages and the API: `mode` hybrid (default), lexical or semantic."""
    if mode == "lexical" or prefix:
        return lexical.search(query, limit, sort=sort, prefix=prefix)
    if mode == "semantic":
        if query.arxiv_id:
            return lexical.search(query, limit)
        return semantic_only(query, limit)
    return search(query, limit, sort=sort)
