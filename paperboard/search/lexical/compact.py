"""Keyword searches answered from the compact postings (SQLite, no filters): the strict and the relaxed
search, scored bit for bit as FTS5's bm25 would, then ordered like the SQL searches."""

from __future__ import annotations

import numpy as np
from django.db import connection

from paperboard.search.lexical import postings
from paperboard.search.lexical.common import (
    MATCH_DEPTH,
    P,
    content_words,
    has_token,
    id_param,
    ids_sql,
    vendor,
)
from paperboard.search.query import Query


def relaxed_postings(q: Query, words: list[str], depth: int, seen: set[int]) -> list[tuple] | None:
    """The relaxed search ranked from the compact postings (see postings/): the papers and scores of
    FTS5's `-bm25()` for `fts_match(q, any_words=words)`, the best `depth` of those not in `seen`. None
    when the postings cannot answer, and for queries with filters (FTS5 joins those)."""
    if not _postings_can(q):
        return None
    found = postings.relaxed_scores(words, *_phrases_and_exclusions(q))
    if found is None:
        return None
    ids, scores = found
    if seen and len(ids):
        keep = ~np.isin(ids, np.fromiter(seen, dtype=np.int64, count=len(seen)))
        ids, scores = ids[keep], scores[keep]
    return visible_best(ids, scores, depth, 0)


def strict_postings(q: Query, limit: int, offset: int) -> list[tuple] | None:
    """The strict relevance search scored from the compact postings: what the FTS5 fast path of
    `_search_sqlite` answers (the MATCH_DEPTH newest papers holding every word, ranked by bm25), or None."""
    if not _postings_can(q):
        return None
    found = postings.strict_scores(content_words(q), *_phrases_and_exclusions(q), MATCH_DEPTH)
    if found is None:
        return None
    return visible_best(*found, limit, offset)


def _postings_can(q: Query) -> bool:
    """Whether the compact postings may rank `q` (SQLite, no filters: those stay SQL joins)."""
    return vendor() == "sqlite" and not q.has_filters


def _phrases_and_exclusions(q: Query) -> tuple[list[str], list[str]]:
    """q's phrases and exclusions as `fts_match` puts them in the MATCH expression."""
    return [p for p in q.phrases if has_token(p)], [e for e in q.excluded if has_token(e)]


def visible_best(ids: np.ndarray, scores: np.ndarray, limit: int, offset: int) -> list[tuple]:
    """[(paper id, score)] for places offset..offset+limit among the visible papers of `ids`, ordered
    like the SQL searches: score, then upvotes, then the newer paper, then the higher id."""
    want = (offset + limit) * 2 + 50
    while True:
        top = np.argpartition(-scores, want - 1)[:want] if len(ids) > want else np.arange(len(ids))
        if not len(top):
            return []
        score_of = dict(zip(ids[top].tolist(), scores[top].tolist()))
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT p.id, p.upvotes, p.published_at FROM {P} p WHERE {ids_sql('p.id')} AND NOT p.hidden",
                [id_param(list(score_of))],
            )
            rows = cur.fetchall()
        # The SQL searches' order: score, more upvotes, newer (no date last), higher id. Dates compare
        # as stored (ISO text on SQLite, timestamps on PostgreSQL): only their order matters here.
        rows.sort(key=lambda r: (-score_of[r[0]], -(r[1] or 0), r[2] is None, _Desc(r[2]), -r[0]))
        if len(rows) >= offset + limit or len(top) == len(ids):
            return [(pid, score_of[pid]) for pid, _, _ in rows[offset : offset + limit]]
        want *= 4  # hidden or deleted papers took places: look deeper


class _Desc:
    """A sort key that puts larger values first. A None is only ever compared with another None (the key
    before it already put papers without a date last), and two Nones are equal."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value is not None and other.value is not None and self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value
