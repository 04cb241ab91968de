"""Compact postings of the keyword index (SQLite): its BM25 ranking in numpy instead of FTS5.

    strict_scores(words, phrases, excluded, depth)   FTS5's `-bm25(search_fts, 10, 4, 1)` of every word AND phrase
    relaxed_scores(words, phrases, excluded)         ... of any of the words (and every phrase)
    doc_counts(words)                                papers holding each word
    record(cur, ids) / reset(cur)                    the keyword indexer calls these where it writes FTS5
    stale() / rebuild_files()                        for the lexical indexer (`paperboard index`)

Each returns None when it cannot answer exactly, and the keyword search then asks FTS5, as before.

Why. FTS5 computes bm25() for every matching row at ~1.3 µs (it decodes the row's position lists and reads
its size from `search_fts_docsize`), and before the first row it counts every match of every phrase of the
query for the IDF (a full pass over the position lists of `learning`, `few-shot`, ... even when one
paper matches). At 275k papers that cost a query 10-40 ms: the relaxed search ranks up to 20,000 papers,
the strict one up to MATCH_DEPTH. The same numbers come from a few numpy operations over compact arrays.

What. For every FTS5 token: the papers holding it (`docs`, by id), its weighted count in each (`wtf` =
10 x in title + 4 x in authors + 1 x in abstract, common.WEIGHTS), the number of its occurrences there
(`nins`) and where they are (`codes`: column and offset, for phrases); the number of papers holding each
token (`df`); each paper's length in tokens (`dlen`, FTS5's own docsize record). Everything is read from
FTS5 itself (`fts5vocab`), so the tokens are FTS5's (porter, unicode61, diacritics removed: nothing is
tokenised twice, differently), and the scores are FTS5's bm25() to the last bit:

    score(d) = sum over phrases p of idf(p) * f(p,d) * (k1 + 1) / (f(p,d) + k1 * (1 - b + b * |d| / avgdl))
    idf(p) = ln((N - n(p) + 0.5) / (n(p) + 0.5)), or 1e-6 when that is <= 0;   k1 = 1.2, b = 0.75

summed in the order of the query's phrases, as FTS5 does; N and avgdl come from FTS5's averages record,
read at each query. A query word is a phrase of its tokens (`few-shot` is `few` then `shot`), matched
by offsets like FTS5 matches phrases; excluded words and phrases add nothing to the score (FTS5 counts
them with a frequency of 0).

Where. Files under `$PAPERBOARD_DATA_DIR/lexical/`, named by `manifest.json` and memory-mapped, so all
workers share one copy through the page cache (275k papers: ~380 MB on disk, of which a query reads the
lists of its words). `paperboard index` writes them (the lexical indexer, after its run) when they are
missing or more than REBUILD_AT papers changed since; building reads the whole FTS5 index (~30 s at 275k
papers on 2 cores). Indexes of at most LAZY_BUILD_LIMIT papers (tests, the demo) are built in memory by
each process when it first needs them.

Staying in step. Every (re)indexing of papers in FTS5 (`indexer.index_papers`, `remove_orphans`) appends
their ids to `search_lexicallog` in the same transaction; `search_lexicalstate` holds a random epoch, new
when the index is rebuilt (`--rebuild`). A query compares (epoch, last log seq) with what its process
holds (one statement). Papers logged since the postings were built are masked out of them and read again
from FTS5 into a small in-memory delta (tokenised by a temporary FTS5 table with the same tokenizer), so a
new or edited paper counts at once, exactly. None is returned (and FTS5 answers) when no postings exist
for a large index, more than DIRTY_LIMIT papers changed since they were built, a word has no token, or
the log was pruned under us and no newer postings can be found.

SQLite only: on PostgreSQL the keyword search keeps its GIN index and ts_rank_cd.

Modules: format.py (tables, log, arrays and their files), builder.py (reading FTS5; upkeep), delta.py (the
view a process answers from: base + delta, the per-process registry, pins), bm25.py (the scores).
"""

from paperboard.search.lexical.postings.bm25 import doc_counts, relaxed_scores, strict_scores
from paperboard.search.lexical.postings.builder import build, prune_log, rebuild_files, stale, tokens
from paperboard.search.lexical.postings.delta import View, current, forget, pinned, postings
from paperboard.search.lexical.postings.format import (
    ARRAYS,
    FORMAT,
    POS_COL,
    Base,
    directory,
    load,
    read_manifest,
    read_state,
    record,
    reset,
    save,
)

__all__ = [
    "ARRAYS", "FORMAT", "POS_COL", "Base", "View", "build", "current", "directory", "doc_counts", "forget", "load", "pinned",
    "postings", "prune_log", "read_manifest", "read_state", "rebuild_files", "record", "relaxed_scores", "reset",
    "save", "stale", "strict_scores", "tokens",
]
