"""Relaxed search's choice of words: a query's selective words, rarest first, within a budget of
postings (ANY_POSTINGS), from document counts kept per process (see lexical/__init__.py)."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection

from paperboard.search.lexical import postings
from paperboard.search.lexical.common import DOC, FTS, PG_CONFIG, STOPWORDS, content_words, fts_quote, vendor
from paperboard.search.query import Query

# Natural-language queries ("how do robots learn to grasp from a few demonstrations") rarely have every
# word in one abstract, so a strict search (every word) often finds little. When it finds fewer than
# asked, the rest of the page comes from a *relaxed* search: any of the query's selective words, ranked
# by the same BM25, so a paper with more of the rare words ranks higher. Stop words are left out, and the
# words are taken rarest first while their postings (documents containing them) add up to at most
# ANY_POSTINGS: rare words carry the meaning (high IDF), and the bound keeps a relaxed search as cheap
# as a strict one at any corpus size. Strict matches always rank above relaxed ones.
ANY_POSTINGS = None  # None: settings.PAPERBOARD_SEARCH_RELAXED_POSTINGS (20,000 by default)


ANY_MAX_WORDS = 12


# Document counts of words, counted up to ANY_POSTINGS + 1, are kept per process for COUNT_TTL seconds
# (at most COUNT_CACHE_SIZE words): common words recur in most queries and cost the most to count, and a
# count a few minutes old picks the same words.
COUNT_TTL = 600.0


COUNT_CACHE_SIZE = 20_000


_counts: dict[tuple[str, str], tuple[float, int]] = {}


def any_postings() -> int:
    if ANY_POSTINGS is not None:
        return int(ANY_POSTINGS)
    return int(settings.PAPERBOARD_SEARCH_RELAXED_POSTINGS)


def selective_words(q: Query) -> list[str]:
    """q's words for a relaxed search: no stop words, rarest first, within ANY_POSTINGS postings in all.
    Empty when relaxing would not change the search (one word) or no word is rare enough."""
    words = [w for w in content_words(q) if w not in STOPWORDS]
    if not words or (len(q.terms) <= 1 and not q.phrases):
        return []
    counts = doc_counts(words)
    budget = any_postings()
    picked, total = [], 0
    for word in sorted(words, key=lambda w: counts[w]):
        n = counts[word]
        if n == 0:
            continue
        if total + n > budget or len(picked) == ANY_MAX_WORDS:
            break
        picked.append(word)
        total += n
    return picked


def doc_counts(words: list[str]) -> dict[str, int]:
    """How many papers contain each word, counted up to ANY_POSTINGS + 1: on SQLite from the compact
    postings when they can say (words FTS5 reads as one token); else one statement for the words not
    cached (counting stops early on common words)."""
    cap = any_postings() + 1
    counted = postings.doc_counts(words) if vendor() == "sqlite" else None
    if counted is not None and len(counted) == len(words):
        return {w: min(n, cap) for w, n in counted.items()}
    now = time.monotonic()
    db = str(connection.settings_dict.get("NAME"))
    out, todo = {}, []
    for w in words:
        if counted is not None and w in counted:
            out[w] = min(counted[w], cap)
            continue
        hit = _counts.get((db, cap, w))
        if hit and now - hit[0] < COUNT_TTL:
            out[w] = hit[1]
        else:
            todo.append(w)
    if todo:
        if len(_counts) > COUNT_CACHE_SIZE:
            _counts.clear()
        for w, n in _count_now(todo, cap).items():
            out[w] = n
            _counts[(db, cap, w)] = (now, n)
    return out


def forget_counts() -> None:
    """Drop the cached word counts and this process's postings (tests that rebuild the corpus call it)."""
    _counts.clear()
    postings.forget()


def _count_now(words: list[str], cap: int) -> dict[str, int]:
    if vendor() == "sqlite":
        one = f"SELECT count(*) FROM (SELECT 1 FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s)"
        params = [p for w in words for p in (fts_quote(w), cap)]
    else:
        one = f"SELECT count(*) FROM (SELECT 1 FROM {DOC} WHERE document @@ plainto_tsquery('{PG_CONFIG}', %s) LIMIT %s) s"
        params = [p for w in words for p in (w, cap)]
    sql = " UNION ALL ".join(f"SELECT {i}, ({one})" for i in range(len(words)))
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {words[int(i)]: int(n) for i, n in cur.fetchall()}
