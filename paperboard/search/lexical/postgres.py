"""The PostgreSQL keyword backend: tsquery expressions built from a parsed query, and the search ranked
by ts_rank_cd over the weighted document (A title, B authors, C abstract)."""

from __future__ import annotations

from django.db import connection

from paperboard.search.lexical.common import (
    DOC,
    PG_CONFIG,
    PG_NORMALIZATION,
    PG_WEIGHTS,
    PREFIX_WORD,
    P,
    content_words,
    filters,
    has_token,
    order,
)
from paperboard.search.query import Query


def pg_tsquery(q: Query, *, prefix: bool = False, any_words=None) -> tuple[str, list] | None:
    """SQL for q's tsquery (words AND phrases) and its parameters; None when q has no words. With
    `any_words`, those words are alternatives (OR) in place of q's words."""
    sql, params = [], []
    if any_words:
        sql.append("(" + " || ".join(f"plainto_tsquery('{PG_CONFIG}', %s)" for _ in any_words) + ")")
        params += list(any_words)
    terms = [] if any_words else [t for t in q.terms if has_token(t)] if prefix else content_words(q)
    for i, t in enumerate(terms):
        if prefix and i == len(terms) - 1 and PREFIX_WORD.match(t):
            sql.append(f"to_tsquery('{PG_CONFIG}', %s)")
            params.append(f"{t}:*")
        else:
            sql.append(f"plainto_tsquery('{PG_CONFIG}', %s)")
            params.append(t)
    for p in q.phrases:
        if has_token(p):
            sql.append(f"phraseto_tsquery('{PG_CONFIG}', %s)")
            params.append(p)
    if not sql:
        return None
    return "(" + " && ".join(sql) + ")", params


def pg_negative(q: Query) -> tuple[str, list] | None:
    excluded = [e for e in q.excluded if has_token(e)]
    if not excluded:
        return None
    return "(" + " || ".join(f"phraseto_tsquery('{PG_CONFIG}', %s)" for _ in excluded) + ")", excluded


def search(q: Query, limit: int, offset: int, sort: str, prefix: bool, any_words=None) -> list[tuple]:
    where, params = filters(q)
    tsq = pg_tsquery(q, prefix=prefix, any_words=any_words)
    negative = pg_negative(q)
    if negative:
        where.append(f"NOT (d.document @@ {negative[0]})")
        params += negative[1]
    if tsq is not None:
        expr, tparams = tsq
        sql = (
            f"SELECT p.id, ts_rank_cd('{PG_WEIGHTS}'::float4[], d.document, {expr}, {PG_NORMALIZATION}) AS score "
            f"FROM {DOC} d JOIN {P} p ON p.id = d.paper_id WHERE d.document @@ {expr} AND "
            + " AND ".join(where)
            + f" ORDER BY {order(sort, 'score DESC')} LIMIT %s OFFSET %s"
        )
        args = [*tparams, *tparams, *params, limit, offset]
    else:
        join = f"LEFT JOIN {DOC} d ON d.paper_id = p.id " if negative else ""
        if negative:  # a paper not indexed yet cannot be shown to lack the excluded words
            where.append("d.paper_id IS NOT NULL")
        sql = f"SELECT p.id, 0.0 FROM {P} p {join}WHERE " + " AND ".join(where) + f" ORDER BY {order(sort, None)} LIMIT %s OFFSET %s"
        args = [*params, limit, offset]
    with connection.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()
