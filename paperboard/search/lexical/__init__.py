"""The lexical (word) index: SQLite FTS5 or PostgreSQL full text search over title, authors and abstract.

    search(query, limit) -> list[Hit]         ranked matches of a parsed `Query`, filters applied
    filter_ids(query, ids) -> set[int]        which of these papers pass the query's filters (hybrid)
    highlights(query, ids) -> {id: Snippet}   the title and an abstract excerpt with <mark>ed matches
    sync(cur, ids, run=store)                 run inside each import batch's transaction (search/receivers.py)
    LexicalIndexer                            pending / run / rebuild, for `paperboard index`

Ranking. SQLite: `bm25(search_fts, 10, 4, 1)` (title, authors, abstract), computed for searches without
filters from the compact postings of `postings/` (the same scores to the last bit, without FTS5's cost
per matching row), by FTS5 itself otherwise. PostgreSQL: `ts_rank_cd` with
weights A (title) 1.0, B (authors) 0.4, C (abstract) 0.1 — the same 10 : 4 : 1. A word in a title says
far more about a paper than the same word in a 200-word abstract (the title is the author's own
ten-word summary); authors sit between, so a name search ranks a paper by that author above one that
cites them. Ties (and only ties) go to more upvotes, then the newer paper.

User text never reaches FTS5 MATCH or tsquery syntax unescaped: FTS5 gets every word and phrase as a
double-quoted string (quotes doubled); PostgreSQL gets them as parameters of plainto_tsquery /
phraseto_tsquery. Hidden papers never match: every query joins papers_paper and checks `hidden`.

Modules: engine.py (the search: strict, then relaxed), fts5.py and postgres.py (the two backends),
compact.py (answers from the compact postings, SQLite), postings/ (those postings), relaxed.py (the words
a relaxed search uses), snippets.py (highlighting), indexer.py (keeping the index in step), common.py
(what they share: tables, weights, stop words, filters).
"""

from paperboard.search.lexical.common import SORTS, STOPWORDS, WEIGHTS, content_words, has_token, vendor
from paperboard.search.lexical.engine import filter_ids, search
from paperboard.search.lexical.fts5 import SQLITE_FTS_DDL, fts_match
from paperboard.search.lexical.indexer import LexicalIndexer, index_papers, sync
from paperboard.search.lexical.relaxed import doc_counts, forget_counts, selective_words
from paperboard.search.lexical.snippets import CLOSE, OPEN, Snippet, highlights, marked_html, plain_excerpt

__all__ = [
    "CLOSE", "OPEN", "SORTS", "SQLITE_FTS_DDL", "STOPWORDS", "WEIGHTS", "LexicalIndexer", "Snippet",
    "content_words", "doc_counts", "filter_ids", "forget_counts", "fts_match", "has_token", "highlights",
    "index_papers", "marked_html", "plain_excerpt", "search", "selective_words", "sync", "vendor",
]
