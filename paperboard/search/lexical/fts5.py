"""The SQLite keyword backend: FTS5 MATCH expressions built from a parsed query, and the search itself
(from the compact postings when they can answer, else ranked by FTS5's bm25)."""

from __future__ import annotations

from django.db import connection

from paperboard.search.lexical import compact
from paperboard.search.lexical.common import (
    FTS,
    MATCH_DEPTH,
    PREFIX_WORD,
    WEIGHTS,
    P,
    content_words,
    filters,
    fts_quote,
    has_token,
    order,
)
from paperboard.search.lexical.relaxed import any_postings
from paperboard.search.query import Query

SQLITE_FTS_DDL = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5("
    "title, authors, abstract, tokenize = 'porter unicode61 remove_diacritics 2')"
)


def fts_match(q: Query, *, prefix: bool = False, negative: bool = True, any_words=None) -> str | None:
    """The FTS5 MATCH expression for q's words and phrases (AND), minus its exclusions; None when q has
    no word to match. With `prefix`, the last word also matches longer words (search as you type).
    With `any_words`, those words are alternatives (OR) in place of q's words; phrases stay required."""
    if any_words:
        parts = ["(" + " OR ".join(fts_quote(t) for t in any_words) + ")"]
    elif prefix:
        parts = [fts_quote(t) for t in q.terms if has_token(t)]
        if parts and PREFIX_WORD.match(q.terms[-1]):
            parts[-1] += "*"
    else:
        parts = [fts_quote(t) for t in content_words(q)]
    parts += [fts_quote(p) for p in q.phrases if has_token(p)]
    if not parts:
        return None
    expr = " AND ".join(parts)
    excluded = [fts_quote(e) for e in q.excluded if has_token(e)]
    if negative and excluded:
        expr = f"({expr}) NOT ({' OR '.join(excluded)})"
    return expr


def fts_negative(q: Query) -> str | None:
    excluded = [fts_quote(e) for e in q.excluded if has_token(e)]
    return " OR ".join(excluded) if excluded else None


def search(q: Query, limit: int, offset: int, sort: str, prefix: bool, any_words=None) -> list[tuple]:
    where, params = filters(q)
    match = fts_match(q, prefix=prefix, any_words=any_words)
    if match is not None and sort == "relevance" and len(where) == 1 and not prefix and not any_words:
        rows = compact.strict_postings(q, limit, offset)
        if rows is not None:
            return rows
    if match is not None and sort == "relevance" and len(where) == 1:
        # Words and no filters (the common case): rank inside FTS5 first and join only its best rows, about
        # twice as fast for common words. Deeper when hidden papers took places; never changes the answer
        # except among exactly tied scores at the cut.
        w = ", ".join(str(x) for x in WEIGHTS)
        # A relaxed search is already bounded by ANY_POSTINGS (its words were chosen for it): rank it whole.
        cap = MATCH_DEPTH if not any_words else max(MATCH_DEPTH, any_postings() + 1)
        depth = (offset + limit) * 2 + 50
        while True:
            sql = (
                f"SELECT p.id, c.score FROM (SELECT id, score FROM (SELECT rowid AS id, -bm25({FTS}, {w}) AS score "
                f"FROM {FTS} WHERE {FTS} MATCH %s ORDER BY rowid DESC LIMIT {cap}) ORDER BY score DESC LIMIT %s) c "
                f"JOIN {P} p ON p.id = c.id "
                f"WHERE NOT p.hidden ORDER BY c.score DESC, p.upvotes DESC, p.published_at DESC NULLS LAST, p.id DESC "
                "LIMIT %s OFFSET %s"
            )
            with connection.cursor() as cur:
                cur.execute(sql, [match, depth, limit, offset])
                rows = cur.fetchall()
                if len(rows) == limit:
                    return rows
                cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s)", [match, depth])
                if cur.fetchone()[0] < depth:  # FTS5 had no more rows: this is all there is
                    return rows
            depth *= 4
    if match is not None:
        w = ", ".join(str(x) for x in WEIGHTS)
        sql = (
            f"SELECT p.id, -bm25({FTS}, {w}) AS score FROM {FTS} JOIN {P} p ON p.id = {FTS}.rowid "
            f"WHERE {FTS} MATCH %s AND " + " AND ".join(where) + f" ORDER BY {order(sort, 'score DESC')} "
            "LIMIT %s OFFSET %s"
        )
        args = [match, *params, limit, offset]
    else:
        negative = fts_negative(q)
        if negative:
            where.append(f"p.id NOT IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)")
            params.append(negative)
        sql = f"SELECT p.id, 0.0 FROM {P} p WHERE " + " AND ".join(where) + f" ORDER BY {order(sort, None)} LIMIT %s OFFSET %s"
        args = [*params, limit, offset]
    with connection.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()
