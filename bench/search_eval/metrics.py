"""Ranking metrics with binary relevance, as pure functions (no I/O, no Django).

`ranked` is the result list, best first (arXiv ids or any hashable ids); `relevant` is the set of ids
judged relevant. Only the first `k` results count. A result listed twice counts once (its first
position): a system cannot earn credit twice for the same paper.

    reciprocal_rank(ranked, relevant, k)  1 / rank of the first relevant result in the top k, else 0
    recall_at_k(ranked, relevant, k)      relevant results in the top k / number of relevant ids
    ndcg_at_k(ranked, relevant, k)        DCG / ideal DCG, gain 1 for a relevant result,
                                          discount 1 / log2(rank + 1), rank counted from 1;
                                          the ideal list puts min(k, |relevant|) relevant results first
    hit_at_k(ranked, relevant, k)         1 if any relevant result is in the top k, else 0

MRR@k, mean recall@k and mean nDCG@k over a set of queries are the plain means of these per-query values
(`mean`). A query with no relevant ids is an error (its recall and nDCG would be undefined).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence

K = 10


def _top_k(ranked: Iterable[Hashable], k: int) -> list[Hashable]:
    """The first k distinct results, in order."""
    if k < 0:
        raise ValueError("k must be >= 0")
    seen: set = set()
    out: list = []
    for doc in ranked:
        if len(out) >= k:
            break
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out


def _relevant(relevant: Iterable[Hashable]) -> set:
    rel = set(relevant)
    if not rel:
        raise ValueError("a query needs at least one relevant id")
    return rel


def reciprocal_rank(ranked: Sequence[Hashable], relevant: Iterable[Hashable], k: int = K) -> float:
    rel = _relevant(relevant)
    for rank, doc in enumerate(_top_k(ranked, k), start=1):
        if doc in rel:
            return 1.0 / rank
    return 0.0


def recall_at_k(ranked: Sequence[Hashable], relevant: Iterable[Hashable], k: int = K) -> float:
    rel = _relevant(relevant)
    return sum(1 for doc in _top_k(ranked, k) if doc in rel) / len(rel)


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain of gains listed by rank (rank 1 first): sum g_i / log2(i + 1)."""
    return sum(g / math.log2(i + 1) for i, g in enumerate(gains, start=1))


def ndcg_at_k(ranked: Sequence[Hashable], relevant: Iterable[Hashable], k: int = K) -> float:
    rel = _relevant(relevant)
    top = _top_k(ranked, k)
    ideal = dcg([1.0] * min(k, len(rel)))
    if ideal == 0.0:  # k == 0
        return 0.0
    return dcg([1.0 if doc in rel else 0.0 for doc in top]) / ideal


def hit_at_k(ranked: Sequence[Hashable], relevant: Iterable[Hashable], k: int = K) -> float:
    return 1.0 if reciprocal_rank(ranked, relevant, k) > 0 else 0.0


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; 0.0 for no values (an empty split reports zeros rather than failing)."""
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


def per_query(ranked: Sequence[Hashable], relevant: Iterable[Hashable], k: int = K) -> dict[str, float]:
    """All metrics of one query: {"rr", "recall", "ndcg", "hit"}."""
    rel = _relevant(relevant)
    return {
        "rr": reciprocal_rank(ranked, rel, k),
        "recall": recall_at_k(ranked, rel, k),
        "ndcg": ndcg_at_k(ranked, rel, k),
        "hit": hit_at_k(ranked, rel, k),
    }


def aggregate(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    """Means over queries of per_query() rows: {"mrr", "recall", "ndcg", "hit_rate", "n"}."""
    rows = list(rows)
    return {
        "mrr": mean(r["rr"] for r in rows),
        "recall": mean(r["recall"] for r in rows),
        "ndcg": mean(r["ndcg"] for r in rows),
        "hit_rate": mean(r["hit"] for r in rows),
        "n": len(rows),
    }
