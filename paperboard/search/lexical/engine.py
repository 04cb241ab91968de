"""Keyword search over either backend: the strict search, topped up by the relaxed one, and the filters
that hybrid search applies to semantic hits."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import connection

from paperboard.search.hits import Hit
from paperboard.search.lexical import compact, fts5, postgres, postings
from paperboard.search.lexical.common import (
    DOC,
    FTS,
    SORTS,
    STOPWORDS,
    P,
    by_arxiv_id,
    content_words,
    filters,
    id_param,
    ids_sql,
    is_query_error,
    vendor,
)
from paperboard.search.lexical.relaxed import doc_counts, selective_words
from paperboard.search.query import Query

log = logging.getLogger(__name__)


def search(
    query: Query, limit: int, *, sort: str = "relevance", offset: int = 0, prefix: bool = False
) -> list[Hit]:
    """Papers matching every word and phrase of `query` and none of its exclusions, with its filters,
    best first (`sort`: relevance, newest or upvotes). A query with filters but no words lists the
    matching papers newest first. `prefix`: the last word matches as a prefix (search as you type)."""
    limit, offset = max(0, int(limit)), max(0, int(offset))
    if limit == 0 or query.is_empty or query.impossible:
        return []
    if sort not in SORTS:
        sort = "relevance"
    if query.arxiv_id:
        return by_arxiv_id(query.arxiv_id)
    try:
        with postings.pinned():
            rows = [] if _surely_empty(query, sort, prefix) else _search(query, limit, offset, sort, prefix)
            if sort == "relevance" and not prefix and len(rows) < limit:
                rows = _relaxed(query, rows, limit, offset)
    except Exception as exc:  # noqa: BLE001 - a search must never turn into an error page
        if not is_query_error(exc):
            raise
        log.warning("lexical search failed for %r: %s", query.raw, exc)
        return []
    return [Hit(int(pid), float(score or 0.0), "lexical") for pid, score in rows]


def _search(q: Query, limit: int, offset: int, sort: str, prefix: bool, any_words=None) -> list[tuple]:
    if vendor() == "sqlite":
        return fts5.search(q, limit, offset, sort, prefix, any_words)
    return postgres.search(q, limit, offset, sort, prefix, any_words)


def _surely_empty(q: Query, sort: str, prefix: bool) -> bool:
    """A long relevance query one of whose words no paper has: the strict search is empty, and skipping
    it saves intersecting the long lists of its common words (the counts are cached)."""
    words = content_words(q)
    if sort != "relevance" or prefix or len(words) < 3 or any(w in STOPWORDS for w in words):
        return False
    return min(doc_counts(words).values()) == 0


def _relaxed(q: Query, rows: list[tuple], limit: int, offset: int) -> list[tuple]:
    """The strict matches, then the papers matching any of q's selective words (see ANY_POSTINGS)."""
    words = selective_words(q)
    if not words:
        return rows
    strict = rows if offset == 0 else _search(q, offset + limit, 0, "relevance", False)
    seen = {r[0] for r in strict}
    relaxed = compact.relaxed_postings(q, words, offset + limit, seen)
    if relaxed is None:
        relaxed = _search(q, offset + limit + len(seen), 0, "relevance", False, any_words=words)
    merged = list(strict) + [r for r in relaxed if r[0] not in seen]
    return merged[offset : offset + limit]


def filter_ids(query: Query, ids: Iterable[int]) -> set[int]:
    """The papers among `ids` that are visible and pass `query`'s filters and exclusions (not its words):
    how hybrid search applies the filters to semantic hits."""
    ids = [int(i) for i in ids]
    if not ids or query.impossible:
        return set()
    where, params = filters(query)
    where.append(ids_sql("p.id"))
    params.append(id_param(ids))
    join = ""
    if vendor() == "sqlite":
        negative = fts5.fts_negative(query)
        if negative:
            where.append(f"p.id NOT IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)")
            params.append(negative)
    else:
        negative = postgres.pg_negative(query)
        if negative:
            join = f"LEFT JOIN {DOC} d ON d.paper_id = p.id "
            where.append(f"NOT coalesce(d.document @@ {negative[0]}, false)")
            params += negative[1]
    with connection.cursor() as cur:
        cur.execute(f"SELECT p.id FROM {P} p {join}WHERE " + " AND ".join(where), params)
        return {int(r[0]) for r in cur.fetchall()}
