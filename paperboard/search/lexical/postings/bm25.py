"""FTS5's bm25 from the compact postings: strict and relaxed scores, and document counts."""

from __future__ import annotations

import logging
import math

import numpy as np

from paperboard.search.lexical.postings import delta
from paperboard.search.lexical.postings.builder import tokens
from paperboard.search.lexical.postings.delta import View, pinned_averages, present

log = logging.getLogger(__name__)


K1, B = 1.2, 0.75  # FTS5's bm25() constants


def _lists(view: View, items: list[str]) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """(papers, weighted counts) of each word or phrase; None when one has no token (FTS5 decides those)."""
    toks = tokens(items)
    if any(not toks[w] for w in items):
        return None
    return [view.word(toks[w]) for w in items]


def _term(rows: int, avgdl: float, n: int, wtf: np.ndarray, dlen: np.ndarray) -> np.ndarray:
    """One phrase's term of FTS5's bm25() for papers with weighted counts `wtf` and lengths `dlen`,
    in FTS5's order of operations (the scores agree to the last bit)."""
    idf = math.log((rows - n + 0.5) / (n + 0.5))
    if idf <= 0.0:
        idf = 1e-6
    f = wtf.astype(np.float64)
    return idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + B * dlen / avgdl)))


def _without(view: View, papers: np.ndarray, excluded: list[str]) -> np.ndarray | None:
    """Mask over sorted `papers`: those holding none of the excluded words and phrases."""
    lists = _lists(view, excluded) if excluded else []
    if lists is None:
        return None
    keep = np.ones(len(papers), dtype=bool)
    for docs, _ in lists:
        keep &= ~present(docs, papers)
    return keep


def _scores(view: View, papers: np.ndarray, lists) -> np.ndarray:
    rows, avgdl = pinned_averages()
    dlen = view.lengths(papers)
    scores = np.zeros(len(papers), dtype=np.float64)
    for docs, wtf in lists:  # in the query's order, as FTS5 adds up its phrases
        at = np.searchsorted(docs, papers)
        found = at < len(docs)
        found[found] = docs[at[found]] == papers[found]
        f = np.zeros(len(papers), dtype=np.int64)
        f[found] = wtf[at[found]]
        scores = scores + _term(rows, avgdl, len(docs), f, dlen)
    return scores


def doc_counts(words: list[str]) -> dict[str, int] | None:
    """Papers holding each word (a word FTS5 splits into tokens is a phrase: `GPT-4`), leaving out words
    without a token; None when the postings cannot answer."""
    view = delta.current()
    if view is None:
        return None
    toks = tokens(words)
    return {w: view.df(toks[w]) for w in words if toks[w]}


def strict_scores(
    words: list[str], phrases: list[str], excluded: list[str], depth: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """(paper ids, scores) of the `depth` most recently added papers (highest ids) holding every word and
    phrase and none of `excluded`: FTS5's `-bm25(search_fts, 10, 4, 1)` for the MATCH
    `("w1" AND ... AND "p1" ...) NOT ("e1" OR ...)` `ORDER BY rowid DESC LIMIT depth`. None: ask FTS5."""
    view = delta.current()
    if view is None or not (words or phrases):
        return None
    lists = _lists(view, [*words, *phrases])
    if lists is None:
        return None
    match = None
    for docs, _ in sorted(lists, key=lambda x: len(x[0])):  # intersect, smallest list first
        match = docs if match is None else match[present(docs, match)]
        if not len(match):
            break
    keep = _without(view, match, excluded)
    if keep is None:
        return None
    match = match[keep]
    match = match[len(match) - depth :] if len(match) > depth else match
    return match, _scores(view, match, lists)


def relaxed_scores(
    words: list[str], phrases: list[str], excluded: list[str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(paper ids, scores) of every paper holding any of `words`, every phrase and none of `excluded`,
    unordered: FTS5's `-bm25(search_fts, 10, 4, 1)` for the MATCH
    `("w1" OR "w2" ...) AND "p1" ... NOT ("e1" OR ...)`. None: ask FTS5."""
    view = delta.current()
    if view is None or not words:
        return None
    lists = _lists(view, [*words, *phrases])
    if lists is None:
        return None
    match = np.sort(np.concatenate([docs for docs, _ in lists[: len(words)]]))
    if len(match):
        match = match[np.concatenate(([True], match[1:] != match[:-1]))]
    for docs, _ in lists[len(words) :]:
        match = match[present(docs, match)]
    keep = _without(view, match, excluded)
    if keep is None:
        return None
    match = match[keep]
    return match, _scores(view, match, lists)
