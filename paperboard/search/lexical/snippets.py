"""Highlighting: a result's title and an abstract excerpt with the matched words in <mark>."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from paperboard.search.lexical.common import (
    FTS,
    PG_CONFIG,
    P,
    content_words,
    id_param,
    ids_sql,
    is_query_error,
    vendor,
)
from paperboard.search.lexical.fts5 import fts_match
from paperboard.search.lexical.postgres import pg_tsquery
from paperboard.search.query import Query

# Highlight markers: private-use characters, replaced by <mark> after the text is HTML-escaped.
OPEN, CLOSE = "\ue000", "\ue001"


SNIPPET_TOKENS = 36


@dataclass(frozen=True)
class Snippet:
    title: SafeString  # the title, matched words in <mark>
    excerpt: SafeString  # a piece of the abstract around the matches


def marked_html(text: str) -> SafeString:
    """HTML-escape `text` and turn the OPEN/CLOSE markers the database put around matches into <mark>.
    The markers are private-use characters; unpaired ones are dropped, so the markup is always balanced."""
    out, inside = [], False
    for piece in re.split(f"([{OPEN}{CLOSE}])", text or ""):
        if piece == OPEN:
            if not inside:
                out.append("<mark>")
                inside = True
        elif piece == CLOSE:
            if inside:
                out.append("</mark>")
                inside = False
        elif piece:
            out.append(str(escape(piece)))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


def plain_excerpt(text: str, words: int = SNIPPET_TOKENS) -> SafeString:
    parts = (text or "").split()
    short = " ".join(parts[:words]) + (" …" if len(parts) > words else "")
    return mark_safe(str(escape(short)))  # noqa: S308


def highlights(query: Query, ids: Iterable[int], *, prefix: bool = False) -> dict[int, Snippet]:
    """Highlighted title and abstract excerpt for each of `ids` that matches q's words (only those:
    a paper found by meaning alone, or by filters, has no words to mark)."""
    ids = [int(i) for i in ids]
    if not ids or query.arxiv_id:
        return {}
    try:
        # Any of the words is marked (a paper found by the relaxed search has only some of them).
        words = None if prefix else content_words(query)
        if vendor() == "sqlite":
            match = fts_match(query, prefix=prefix, negative=False, any_words=words)
            if match is None:
                return {}
            with connection.cursor() as cur:
                # A literal rowid list (not json_each): FTS5 then seeks each row instead of scanning the words' lists.
                cur.execute(
                    f"SELECT rowid, highlight({FTS}, 0, %s, %s), snippet({FTS}, 2, %s, %s, '…', {SNIPPET_TOKENS}) "
                    f"FROM {FTS} WHERE {FTS} MATCH %s AND rowid IN ({', '.join(['%s'] * len(ids))})",
                    [OPEN, CLOSE, OPEN, CLOSE, match, *ids],
                )
                rows = cur.fetchall()
        else:
            tsq = pg_tsquery(query, prefix=prefix, any_words=words)
            if tsq is None:
                return {}
            expr, tparams = tsq
            sel = f"StartSel={OPEN}, StopSel={CLOSE}"
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT p.id, ts_headline('{PG_CONFIG}', p.title, {expr}, %s), "
                    f"ts_headline('{PG_CONFIG}', p.abstract, {expr}, %s) FROM {P} p WHERE {ids_sql('p.id')}",
                    [
                        *tparams,
                        f"HighlightAll=true, {sel}",
                        *tparams,
                        f'MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … ", {sel}',
                        id_param(ids),
                    ],
                )
                rows = cur.fetchall()
    except Exception as exc:  # noqa: BLE001
        if not is_query_error(exc):
            raise
        return {}
    return {int(pid): Snippet(marked_html(title), marked_html(excerpt)) for pid, title, excerpt in rows}
