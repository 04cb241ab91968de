"""Compact postings of the keyword index (SQLite): its BM25 ranking in numpy instead of FTS5.

    strict_scores(words, phrases, excluded, depth)   FTS5's `-bm25(search_fts, 10, 4, 1)` of every word AND phrase
    relaxed_scores(words, phrases, excluded)         ... of any of the words (and every phrase)
    doc_counts(words)                                papers holding each word
    record(cur, ids) / reset(cur)                    lexical.py calls these where it writes FTS5
    stale() / rebuild_files()                        for the lexical indexer (`paperboard index`)

Each returns None when it cannot answer exactly, and lexical.py then asks FTS5, as before.

Why. FTS5 computes bm25() for every matching row at ~1.3 µs (it decodes the row's position lists and reads
its size from `search_fts_docsize`), and before the first row it counts every match of every phrase of the
query for the IDF (a full pass over the position lists of `learning`, `few-shot`, ... even when one
paper matches). At 275k papers that cost a query 10-40 ms: the relaxed search ranks up to 20,000 papers,
the strict one up to MATCH_DEPTH. The same numbers come from a few numpy operations over compact arrays.

What. For every FTS5 token: the papers holding it (`docs`, by id), its weighted count in each (`wtf` =
10 x in title + 4 x in authors + 1 x in abstract, lexical.WEIGHTS), the number of its occurrences there
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

Staying in step. Every (re)indexing of papers in FTS5 (`lexical.index_papers`, `remove_orphans`) appends
their ids to `search_lexicallog` in the same transaction; `search_lexicalstate` holds a random epoch, new
when the index is rebuilt (`--rebuild`). A query compares (epoch, last log seq) with what its process
holds (one statement). Papers logged since the postings were built are masked out of them and read again
from FTS5 into a small in-memory delta (tokenised by a temporary FTS5 table with the same tokenizer), so a
new or edited paper counts at once, exactly. None is returned (and FTS5 answers) when no postings exist
for a large index, more than DIRTY_LIMIT papers changed since they were built, a word has no token, or
the log was pruned under us and no newer postings can be found.

SQLite only: on PostgreSQL lexical.py keeps its GIN index and ts_rank_cd.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import secrets
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

FTS = "search_fts"
STATE = "search_lexicalstate"
LOG = "search_lexicallog"
TOKENIZER = "porter unicode61 remove_diacritics 2"  # lexical.SQLITE_FTS_DDL's
COLUMNS = ("title", "authors", "abstract")
FORMAT = 3
K1, B = 1.2, 0.75  # FTS5's bm25() constants
DIRTY_LIMIT = 10_000  # papers changed since the postings were built that a process still folds in
REBUILD_AT = 2_000  # `paperboard index` rebuilds the postings files when more papers than this changed
LAZY_BUILD_LIMIT = 20_000  # a process builds missing postings of an index this small itself, in memory
TOKEN_CACHE_SIZE = 50_000
PHRASE_CACHE_SIZE = 256  # phrases evaluated, kept per view (a query asks for a phrase's count, then its list)
SCRATCH = "pb_postings_scratch"  # a temporary FTS5 table (per connection) that tokenises for us
# An occurrence's place as one number: column << POS_COL | offset. A phrase's papers are found by matching
# (paper << POS_BITS | place) keys, shifted by each token's place in the phrase.
POS_COL, POS_BITS = 18, 20
OFFSET_MASK = (1 << POS_COL) - 1

_token_cache: dict[str, tuple[str, ...]] = {}


def enabled() -> bool:
    return connection.vendor == "sqlite"


# ---- Bookkeeping in the database --------------------------------------------------------------------------


def record(cur, ids_param) -> None:
    """Log papers whose FTS5 rows were just written or deleted (`ids_param`: a JSON array of ids), inside
    the caller's transaction; the first record after a reset starts a new epoch."""
    cur.execute(f"INSERT OR IGNORE INTO {STATE} (id, epoch) VALUES (1, %s)", [secrets.token_hex(8)])
    cur.execute(f"INSERT INTO {LOG} (paper_id) SELECT value FROM json_each(%s)", [ids_param])


def reset(cur) -> None:
    """The index was dropped: forget the log and the epoch (postings of the old epoch are never used again)."""
    cur.execute(f"DELETE FROM {LOG}")
    cur.execute(f"DELETE FROM {STATE}")


def read_state() -> tuple[str, int] | None:
    """(epoch, seq of the newest log row ever written), or None before anything was recorded."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT epoch, coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{LOG}'), 0) "
            f"FROM {STATE} WHERE id = 1"
        )
        row = cur.fetchone()
    return (row[0], int(row[1])) if row else None


def _varints(data: bytes) -> list[int]:
    """SQLite varints (big-endian, 7 bits a byte, the 9th byte whole): FTS5's averages and docsize records."""
    out, i, n = [], 0, len(data)
    while i < n:
        value = 0
        for k in range(9):
            c = data[i]
            i += 1
            if k == 8:
                value = (value << 8) | c
                break
            value = (value << 7) | (c & 0x7F)
            if not c & 0x80:
                break
        out.append(value)
    return out


def averages() -> tuple[int, float]:
    """(rows in the index, average row length in tokens): what FTS5's bm25() uses (its averages record)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT block FROM {FTS}_data WHERE id = 1")
        row = cur.fetchone()
    values = _varints(bytes(row[0])) if row and row[0] else []
    rows = values[0] if values else 0
    tokens = sum(values[1 : 1 + len(COLUMNS)])
    return rows, (tokens / rows if rows else 0.0)


# ---- The postings -------------------------------------------------------------------------------------------


class _Terms:
    """Sorted distinct tokens as one UTF-8 blob plus offsets; `find` is a binary search (~20 probes)."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray):
        self.blob, self.offsets = blob, offsets
        self._found: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        return self.blob[int(self.offsets[i]) : int(self.offsets[i + 1])].tobytes()

    def find(self, term: str) -> int:
        found = self._found.get(term)
        if found is None:
            key = term.encode()
            i = bisect.bisect_left(self, key)
            found = i if i < len(self) and self[i] == key else -1
            if len(self._found) >= TOKEN_CACHE_SIZE:
                self._found.clear()
            self._found[term] = found
        return found


ARRAYS = ("blob", "term_offsets", "df", "starts", "docs", "wtf", "nins", "istarts", "codes", "dlen")


@dataclass
class Base:
    """Postings as of log seq `seq` of epoch `epoch`: files mapped by every worker, or built in memory."""

    epoch: str
    seq: int
    weights: tuple[int, ...]
    code_col: int  # codes hold column << code_col | offset (14, or 18 when an offset does not fit 14 bits)
    blob: np.ndarray  # the tokens, sorted by their UTF-8 bytes
    term_offsets: np.ndarray  # (terms + 1,) int64: token i is blob[term_offsets[i]:term_offsets[i + 1]]
    df: np.ndarray  # (terms,) int64: papers holding each token
    starts: np.ndarray  # (terms + 1,) int64: token i's postings are [starts[i], starts[i + 1])
    docs: np.ndarray  # (postings,) uint32 or int64: paper ids, ascending within a token
    wtf: np.ndarray  # (postings,) uint16 or uint32: the token's weighted count in that paper
    nins: np.ndarray  # (postings,) uint16 or uint32: its occurrences in that paper
    istarts: np.ndarray  # (terms + 1,) int64: token i's occurrences are [istarts[i], istarts[i + 1])
    codes: np.ndarray  # (occurrences,) uint16 or uint32: column and offset, by paper then place
    dlen: np.ndarray  # (max id + 1,) int32: each paper's length in tokens (all columns)
    path: Path | None = None  # the files' folder; None when built in memory

    def __post_init__(self):
        for name in ARRAYS:  # plain views of the mapped files: slicing a np.memmap costs ~1 µs more each time
            value = getattr(self, name)
            if isinstance(value, np.memmap):
                setattr(self, name, value.view(np.ndarray))
        self.terms = _Terms(self.blob, self.term_offsets)


@dataclass
class _Delta:
    """Papers changed since the Base: masked out of it, their current postings held here instead."""

    dirty: np.ndarray  # sorted int64 ids (every paper logged since the Base, whatever happened to it)
    vocab: dict  # token -> tid
    tids: np.ndarray  # (n,) int64; postings sorted by (tid, doc)
    docs: np.ndarray  # (n,) int64
    wtf: np.ndarray  # (n,) int64
    ktids: np.ndarray  # (m,) int64; occurrences sorted by (tid, key)
    keys: np.ndarray  # (m,) int64: paper << POS_BITS | column << POS_COL | offset
    len_ids: np.ndarray  # sorted int64: papers of the delta that are in the index now
    len_values: np.ndarray  # their lengths


def _empty_delta() -> _Delta:
    z = np.zeros(0, dtype=np.int64)
    return _Delta(z, {}, z, z, z, z, z, z, z)


def _present(docs: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Boolean mask over `ids`: whether sorted `docs` holds each."""
    if not len(docs) or not len(ids):
        return np.zeros(len(ids), dtype=bool)
    pos = np.searchsorted(docs, ids.astype(docs.dtype, copy=False))
    ok = pos < len(docs)
    ok[ok] = docs[pos[ok]] == ids[ok]
    return ok


def _outside(sorted_values: np.ndarray, ids: np.ndarray) -> np.ndarray | None:
    """Boolean mask over sorted `sorted_values` (repeats allowed): those not in `ids`; None when all are."""
    if not len(ids) or not len(sorted_values):
        return None
    lo = np.searchsorted(sorted_values, ids, "left")
    hi = np.searchsorted(sorted_values, ids, "right")
    hit = hi > lo
    if not hit.any():
        return None
    edges = np.zeros(len(sorted_values) + 1, dtype=np.int64)
    np.add.at(edges, lo[hit], 1)
    np.add.at(edges, hi[hit], -1)
    return np.cumsum(edges[:-1]) == 0


@dataclass
class View:
    """What one query reads: a Base, the delta over it, and phrases already evaluated on them."""

    base: Base
    delta: _Delta
    phrases: dict = field(default_factory=dict)

    def _range(self, tids: np.ndarray, token: str) -> tuple[int, int]:
        tid = self.delta.vocab.get(token)
        if tid is None:
            return 0, 0
        lo, hi = np.searchsorted(tids, [tid, tid + 1])
        return int(lo), int(hi)

    def find(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(paper ids ascending, weighted counts) of the papers holding `token` now."""
        base, delta = self.base, self.delta
        i = base.terms.find(token)
        if i >= 0:
            lo, hi = int(base.starts[i]), int(base.starts[i + 1])
            docs, wtf = base.docs[lo:hi], base.wtf[lo:hi]
            keep = _outside(docs, delta.dirty.astype(docs.dtype))
            if keep is not None:
                docs, wtf = docs[keep], wtf[keep]
        else:
            docs, wtf = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        docs, wtf = docs.astype(np.int64), wtf.astype(np.int64)
        lo, hi = self._range(delta.tids, token)
        if hi > lo:
            at = np.searchsorted(docs, delta.docs[lo:hi])
            docs, wtf = np.insert(docs, at, delta.docs[lo:hi]), np.insert(wtf, at, delta.wtf[lo:hi])
        return docs, wtf

    def _base_keys(self, i: int, papers: np.ndarray) -> np.ndarray:
        """Sorted occurrence keys (paper << POS_BITS | column << POS_COL | offset) of token `i` of the
        Base in these papers, which all hold it: only their occurrences are read."""
        base = self.base
        lo, hi = int(base.starts[i]), int(base.starts[i + 1])
        at = np.searchsorted(base.docs[lo:hi], papers.astype(base.docs.dtype))
        nins = base.nins[lo:hi]
        before = np.zeros(hi - lo + 1, dtype=np.int64)
        np.cumsum(nins, out=before[1:])
        count = nins[at].astype(np.int64)
        total = int(count.sum())
        first = np.zeros(len(count), dtype=np.int64)
        np.cumsum(count[:-1], out=first[1:])
        where = np.repeat(int(base.istarts[i]) + before[at] - first, count) + np.arange(total)
        codes = base.codes[where].astype(np.int64)
        if base.code_col != POS_COL:
            codes = ((codes >> base.code_col) << POS_COL) | (codes & ((1 << base.code_col) - 1))
        return (np.repeat(papers, count) << POS_BITS) | codes

    def _delta_keys(self, token: str) -> np.ndarray:
        lo, hi = self._range(self.delta.ktids, token)
        return self.delta.keys[lo:hi]

    def word(self, toks: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(paper ids ascending, weighted counts) for a query word or phrase: its one token, or its tokens
        one after the other (FTS5's phrase: each place where they follow each other counts once)."""
        if len(toks) == 1:
            return self.find(toks[0])
        hit = self.phrases.get(toks)
        if hit is not None:
            return hit
        base = self.base
        # Papers of the Base holding every token (rarest first), then only their occurrences are matched.
        where = [base.terms.find(t) for t in toks]
        papers = np.zeros(0, dtype=np.int64)
        if min(where) >= 0:
            rarest, *others = sorted(set(where), key=lambda i: int(base.df[i]))
            papers = base.docs[int(base.starts[rarest]) : int(base.starts[rarest + 1])].astype(np.int64)
            for i in others:
                papers = papers[_present(base.docs[int(base.starts[i]) : int(base.starts[i + 1])], papers)]
            if len(self.delta.dirty) and len(papers):
                papers = papers[~_present(self.delta.dirty, papers)]
        starts = _phrase_starts([self._base_keys(i, papers) for i in where] if len(papers) else [])
        delta = _phrase_starts([self._delta_keys(t) for t in toks]) if self.delta.vocab else starts[:0]
        starts = np.concatenate([starts, delta]) if len(delta) else starts
        papers = starts >> POS_BITS
        weights = np.array([*base.weights, 0], dtype=np.int64)
        w = weights[np.minimum((starts >> POS_COL) & ((1 << (POS_BITS - POS_COL)) - 1), 3)]
        if len(papers):
            order = np.argsort(papers, kind="stable")
            papers, w = papers[order], w[order]
            first = np.flatnonzero(np.concatenate(([True], papers[1:] != papers[:-1])))
            hit = papers[first], np.add.reduceat(w, first)
        else:
            hit = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        if len(self.phrases) >= PHRASE_CACHE_SIZE:
            self.phrases.clear()
        self.phrases[toks] = hit
        return hit

    def df(self, toks: tuple[str, ...]) -> int:
        """How many papers hold this word or phrase now."""
        if len(toks) != 1:
            return len(self.word(toks)[0])
        base, delta = self.base, self.delta
        i = base.terms.find(toks[0])
        n = 0
        if i >= 0:
            n = int(base.df[i])
            if len(delta.dirty):
                n -= int(_present(base.docs[int(base.starts[i]) : int(base.starts[i + 1])], delta.dirty).sum())
        lo, hi = self._range(delta.tids, toks[0])
        return n + hi - lo

    def lengths(self, ids: np.ndarray) -> np.ndarray:
        """Length in tokens (float64) of each of these papers, which must be in the index."""
        out = np.zeros(len(ids), dtype=np.float64)
        inside = ids < len(self.base.dlen)
        out[inside] = self.base.dlen[ids[inside]]
        delta = self.delta
        if len(delta.len_ids):
            ok = _present(delta.len_ids, ids)
            out[ok] = delta.len_values[np.searchsorted(delta.len_ids, ids[ok])]
        return out


def _phrase_starts(keys_per_token: list[np.ndarray]) -> np.ndarray:
    """Keys of the places where the tokens follow each other (each list: one token's sorted occurrence
    keys, in phrase order)."""
    starts = None
    for j, keys in enumerate(keys_per_token):
        if j:
            keys = keys[(keys & OFFSET_MASK) >= j] - j  # where the phrase would start
        starts = keys if starts is None else starts[_present(keys, starts)]
        if not len(starts):
            break
    return starts if starts is not None else np.zeros(0, dtype=np.int64)


def _weights() -> tuple[int, ...] | None:
    """lexical.WEIGHTS as whole numbers, or None when they are not (the compact counts cannot hold those)."""
    from paperboard.search import lexical

    if any(float(w) != int(w) for w in lexical.WEIGHTS):
        return None
    return tuple(int(w) for w in lexical.WEIGHTS)


def _raw_cursor():
    connection.ensure_connection()
    return connection.connection.cursor()


_COLUMN_CODE = "CASE col WHEN 'title' THEN 0 WHEN 'authors' THEN 1 ELSE 2 END"


BULK_TERM = 1024  # tokens with more occurrences than this are read one by one; the rest by ranges of tokens


def build(tick=None) -> Base | None:
    """Postings of the whole index, read from FTS5 in one snapshot (None: weights that are not whole
    numbers, or an offset beyond 2**18 tokens). `tick()` is called every few seconds (a scheduled job's
    heartbeat): what it raises is kept by the _Ticker `tick` may be, for its caller to raise later."""
    weights = _weights()
    if weights is None:
        return None
    wvec = np.array([*weights, 0], dtype=np.int64)
    with transaction.atomic(), connection.cursor() as cur:
        # Make sure an epoch exists (an index filled before the log existed has none yet).
        cur.execute(f"INSERT OR IGNORE INTO {STATE} (id, epoch) VALUES (1, %s)", [secrets.token_hex(8)])
    raw = _raw_cursor()
    raw.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.pb_postings_vrow USING fts5vocab(main, {FTS}, 'row')")
    raw.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.pb_postings_vinst USING fts5vocab(main, {FTS}, 'instance')")
    ticker = tick if isinstance(tick, _Ticker) else _Ticker(tick)
    key = f'((doc << {POS_BITS}) | ({_COLUMN_CODE} << {POS_COL})) + "offset"'
    try:
        with transaction.atomic():  # one snapshot: the log seq, the sizes and the vocabulary agree
            state = read_state()
            if state is None:
                return None
            sizes = raw.execute(f"SELECT id, sz FROM {FTS}_docsize").fetchall()
            top = max((r[0] for r in sizes), default=0)
            dlen = np.zeros(top + 1, dtype=np.int32)
            for pid, sz in sizes:
                dlen[pid] = sum(_varints(bytes(sz))[: len(COLUMNS)])
            del sizes
            vocab = raw.execute("SELECT term, doc, cnt FROM temp.pb_postings_vrow").fetchall()
            vocab.sort(key=lambda r: r[0].encode())
            terms = [r[0] for r in vocab]
            encoded = [t.encode() for t in terms]
            term_offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(vocab)), out=term_offsets[1:])
            blob = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
            del encoded
            df = np.array([r[1] for r in vocab], dtype=np.int64)
            counts = np.array([r[2] for r in vocab], dtype=np.int64)
            del vocab
            out = _Arrays(df, counts, top, wvec)
            i, n = 0, len(terms)
            while i < n:
                ticker()
                if counts[i] > BULK_TERM:  # one token: its occurrences as one string, parsed by numpy in C
                    text = raw.execute(
                        f"SELECT group_concat({key}) FROM temp.pb_postings_vinst WHERE term = ?", (terms[i],)
                    ).fetchone()[0] or ""
                    keys = np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, dtype=np.int64)
                    j = i + 1
                else:  # a run of rare tokens: their occurrences row by row, one statement
                    j = i
                    total = 0
                    while j < n and counts[j] <= BULK_TERM and total < 200_000:
                        total += int(counts[j])
                        j += 1
                    rows = raw.execute(
                        f"SELECT {key} FROM temp.pb_postings_vinst WHERE term >= ? AND term <= ?",
                        (terms[i], terms[j - 1]),
                    ).fetchall()
                    keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                if not out.put(i, j, keys):
                    return None
                i = j
            arrays = out.arrays()
    finally:
        raw.execute("DROP TABLE IF EXISTS temp.pb_postings_vrow")
        raw.execute("DROP TABLE IF EXISTS temp.pb_postings_vinst")
        raw.close()
    return Base(state[0], state[1], weights, arrays["code_col"], blob, term_offsets, df, arrays["starts"],
                arrays["docs"], arrays["wtf"], arrays["nins"], arrays["istarts"], arrays["codes"], dlen)


class _Ticker:
    """Calls `tick` at most every TICK_SECONDS; keeps what it raised for `done()` to raise."""

    TICK_SECONDS = 2.0

    def __init__(self, tick):
        self.tick, self.last, self.error = tick, time.monotonic(), None

    def __call__(self) -> None:
        if self.tick is None or self.error is not None or time.monotonic() - self.last < self.TICK_SECONDS:
            return
        self.last = time.monotonic()
        try:
            self.tick()
        except BaseException as exc:  # noqa: BLE001 - raised again by done(), once the work is saved
            self.error = exc

    def done(self) -> None:
        if self.error is not None:
            raise self.error


class _Arrays:
    """The postings arrays being filled, token range by token range (tokens in their sorted order)."""

    def __init__(self, df: np.ndarray, counts: np.ndarray, top: int, wvec: np.ndarray):
        self.df, self.counts, self.wvec = df, counts, wvec
        self.starts = np.zeros(len(df) + 1, dtype=np.int64)
        np.cumsum(df, out=self.starts[1:])
        self.istarts = np.zeros(len(df) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.istarts[1:])
        self.docs = np.empty(int(self.starts[-1]), dtype=np.uint32 if top < 2**32 else np.int64)
        self.wtf = np.empty(int(self.starts[-1]), dtype=np.uint16)
        self.nins = np.empty(int(self.starts[-1]), dtype=np.uint16)
        self.codes = np.empty(int(self.istarts[-1]), dtype=np.uint16)
        self.code_col = 14

    def put(self, i: int, j: int, keys: np.ndarray) -> bool:
        """Store tokens i..j-1 from their occurrence keys (by token, then paper, then place). False when an
        offset does not fit; raises when the keys disagree with the vocabulary (never store those)."""
        ilo, ihi = int(self.istarts[i]), int(self.istarts[j])
        lo, hi = int(self.starts[i]), int(self.starts[j])
        if len(keys) != ihi - ilo:
            raise RuntimeError(f"postings of tokens {i}..{j}: {len(keys)} occurrences, the vocabulary says {ihi - ilo}")
        token = np.repeat(np.arange(j - i), self.counts[i:j])
        papers = keys >> POS_BITS
        column = (keys >> POS_COL) & 3
        offset = keys & OFFSET_MASK
        new_token = np.concatenate(([True], token[1:] != token[:-1])) if len(keys) else np.zeros(0, dtype=bool)
        if len(keys) and np.any((keys[1:] <= keys[:-1]) & ~new_token[1:]):
            raise RuntimeError(f"postings of tokens {i}..{j} are not in order")
        first = np.flatnonzero(new_token | np.concatenate(([True], papers[1:] != papers[:-1]))[: len(keys)])
        if len(first) != hi - lo:
            raise RuntimeError(f"postings of tokens {i}..{j}: {len(first)} papers, the vocabulary says {hi - lo}")
        if not len(keys):
            return True
        if offset.max() >= OFFSET_MASK:
            return False
        if self.code_col == 14 and offset.max() >= 1 << 14:
            self.codes, self.code_col = _widen_codes(self.codes, ilo), POS_COL
        self.docs[lo:hi] = papers[first]
        weighted = np.add.reduceat(self.wvec[column], first)
        if weighted.max() > np.iinfo(self.wtf.dtype).max:
            self.wtf = self.wtf.astype(np.uint32)
        self.wtf[lo:hi] = weighted
        spans = np.diff(np.append(first, len(keys)))
        if spans.max() > np.iinfo(self.nins.dtype).max:
            self.nins = self.nins.astype(np.uint32)
        self.nins[lo:hi] = spans
        self.codes[ilo:ihi] = (column << self.code_col) | offset
        return True

    def arrays(self) -> dict:
        return {"code_col": self.code_col, "starts": self.starts, "istarts": self.istarts, "docs": self.docs,
                "wtf": self.wtf, "nins": self.nins, "codes": self.codes}


def _widen_codes(codes: np.ndarray, done: int) -> np.ndarray:
    """uint16 codes (column << 14) -> uint32 (column << 18), for an index with an offset of 2**14 or more."""
    wide = codes.astype(np.uint32)
    head = wide[:done]
    wide[:done] = ((head >> 14) << POS_COL) | (head & ((1 << 14) - 1))
    return wide


# ---- Files ---------------------------------------------------------------------------------------------------


def directory() -> Path:
    return Path(settings.DATA_DIR) / "lexical"


def read_manifest(folder: Path | None = None) -> dict | None:
    folder = folder or directory()
    try:
        m = json.loads((folder / "manifest.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return m if m.get("format") == FORMAT else None


def save(base: Base, folder: Path | None = None) -> dict:
    """Write `base` as files (a new sub-folder, then the manifest naming it, replaced atomically), drop the
    older folders, and prune the log rows the new files cover."""
    from paperboard.search.vectors import _file_lock

    folder = folder or directory()
    folder.mkdir(parents=True, exist_ok=True)
    with _file_lock(folder / ".lock"):
        name = f"postings-{secrets.token_hex(6)}"
        target = folder / name
        target.mkdir()
        for key in ARRAYS:
            np.save(target / f"{key}.npy", np.ascontiguousarray(getattr(base, key)))
        m = {
            "format": FORMAT, "epoch": base.epoch, "seq": base.seq, "weights": list(base.weights),
            "code_col": base.code_col, "folder": name, "terms": len(base.df), "postings": len(base.docs),
            "occurrences": len(base.codes), "papers": int(np.count_nonzero(base.dlen)),
            "written": timezone.now().isoformat(),
        }
        tmp = folder / f".manifest-{name}.json"
        tmp.write_text(json.dumps(m, indent=1))
        tmp.replace(folder / "manifest.json")
        for old in folder.glob("postings-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)  # processes that mapped them keep their copy
    base.path = target
    with transaction.atomic(), connection.cursor() as cur:
        # Processes holding older postings find the gap in the log and map these (Postings._catch_up).
        cur.execute(f"SELECT epoch FROM {STATE} WHERE id = 1")
        row = cur.fetchone()
        if row and row[0] == base.epoch:
            cur.execute(f"DELETE FROM {LOG} WHERE seq <= %s", [base.seq])
    return m


def load(m: dict, folder: Path | None = None) -> Base:
    path = (folder or directory()) / m["folder"]
    a = {key: np.load(path / f"{key}.npy", mmap_mode="r") for key in ARRAYS}
    n_terms, n_post = len(a["df"]), len(a["docs"])
    if (
        len(a["starts"]) != n_terms + 1 or len(a["istarts"]) != n_terms + 1 or len(a["term_offsets"]) != n_terms + 1
        or len(a["wtf"]) != n_post or len(a["nins"]) != n_post or a["starts"][-1] != n_post
        or a["istarts"][-1] != len(a["codes"])
    ):
        raise ValueError(f"postings files in {path} disagree")
    return Base(m["epoch"], int(m["seq"]), tuple(m["weights"]), int(m["code_col"]), **a, path=path)


# ---- Tokenising with FTS5's own tokenizer ------------------------------------------------------------------


def _scratch(raw) -> None:
    raw.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{SCRATCH} USING fts5(title, authors, abstract, "
        f"tokenize = '{TOKENIZER}')"
    )
    raw.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{SCRATCH}_v USING fts5vocab(temp, {SCRATCH}, 'instance')")
    raw.execute(f"DELETE FROM temp.{SCRATCH}")


def tokens(words: list[str]) -> dict[str, tuple[str, ...]]:
    """FTS5's tokens of each word (`networks` -> (network,), `fine-tuning` -> (fine, tune)), remembered."""
    todo = list(dict.fromkeys(w for w in words if w not in _token_cache))
    if todo:
        raw = _raw_cursor()
        try:
            _scratch(raw)
            raw.executemany(f"INSERT INTO temp.{SCRATCH} (rowid, title) VALUES (?, ?)", list(enumerate(todo, 1)))
            found: dict[int, list[str]] = {}
            for doc, term in raw.execute(f'SELECT doc, term FROM temp.{SCRATCH}_v ORDER BY doc, "offset"'):
                found.setdefault(doc, []).append(term)
            raw.execute(f"DELETE FROM temp.{SCRATCH}")
        finally:
            raw.close()
        if len(_token_cache) > TOKEN_CACHE_SIZE:
            _token_cache.clear()
        for i, w in enumerate(todo, 1):
            _token_cache[w] = tuple(found.get(i, ()))
    return {w: _token_cache[w] for w in words}


def _tokenise_papers(ids: list[int]) -> tuple[list[str], np.ndarray, np.ndarray, dict[int, int]]:
    """The occurrences in these papers' current FTS5 rows: (their tokens in order, each token's number of
    occurrences, every occurrence's key `paper << POS_BITS | column << POS_COL | offset` by token, then
    paper, then place), and {paper id: length in tokens} of the papers still in the index."""
    raw = _raw_cursor()
    try:
        _scratch(raw)
        raw.execute(
            f"INSERT INTO temp.{SCRATCH} (rowid, title, authors, abstract) SELECT rowid, title, authors, abstract "
            f"FROM main.{FTS} WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
        raw.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{SCRATCH}_r USING fts5vocab(temp, {SCRATCH}, 'row')")
        vocab = raw.execute(f"SELECT term, cnt FROM temp.{SCRATCH}_r").fetchall()
        text = raw.execute(
            f'SELECT group_concat(((doc << {POS_BITS}) | ({_COLUMN_CODE} << {POS_COL})) + "offset") '
            f"FROM temp.{SCRATCH}_v"
        ).fetchone()[0]
        sizes = {
            int(pid): sum(_varints(bytes(sz))[: len(COLUMNS)])
            for pid, sz in raw.execute(f"SELECT id, sz FROM temp.{SCRATCH}_docsize")
        }
        raw.execute(f"DELETE FROM temp.{SCRATCH}")
    finally:
        raw.close()
    keys = np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, dtype=np.int64)
    counts = np.array([c for _, c in vocab], dtype=np.int64)
    if len(keys) != int(counts.sum()):
        raise RuntimeError("the temporary index's occurrences do not agree with its vocabulary")
    return [t for t, _ in vocab], counts, keys, sizes


# ---- One process's view, kept in step ----------------------------------------------------------------------


class Postings:
    """This process's postings for one database: a Base (files or memory) plus the delta since."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._lock = threading.RLock()
        self.base: Base | None = None
        self.delta = _empty_delta()
        self.after = 0  # log seq the delta has caught up to
        self.seen: tuple[str, int] | None = None  # the state `view` stands for
        self.view: View | None = None
        self.given_up: tuple | None = None  # (epoch, manifest folder) for which the postings cannot answer
        self.events = {"opened": 0, "built": 0, "delta_papers": 0, "gave_up": 0}

    def current(self) -> View | None:
        """The view for the database as it is now, or None when the postings cannot answer exactly."""
        state = read_state()
        with self._lock:
            if state is not None and state == self.seen and self.view is not None:
                return self.view
            self.view = None
            m = read_manifest(self.folder)
            attempt = (state and state[0], m and m["folder"])
            if self.given_up is not None and self.given_up == attempt:
                return None  # nothing changed that could help, and trying again would cost as much
            if not self._refresh(state, m):
                self._drop()
                self.given_up = attempt
                self.events["gave_up"] += 1
                return None
            self.given_up = None
            self.view = View(self.base, self.delta)
            return self.view

    def _refresh(self, state: tuple[str, int] | None, m: dict | None) -> bool:
        base = self.base
        if state is None or base is None or base.epoch != state[0] or self.after > state[1]:
            self._drop()
            if state is None or not (self._usable(m, state) and self._open(m)):
                if not self._build_small():
                    return False
                state = read_state()  # building records an epoch when there was none
        elif self._usable(m, state) and base.seq < m["seq"]:
            self._open(m)  # another process wrote newer files: a shorter delta
        if not self._catch_up(state):
            return False
        self.seen = state
        return True

    def _drop(self) -> None:
        self.base, self.delta, self.after, self.seen, self.view = None, _empty_delta(), 0, None, None

    def _usable(self, m: dict | None, state: tuple[str, int]) -> bool:
        return bool(m) and m["epoch"] == state[0] and m["seq"] <= state[1] and tuple(m["weights"]) == _weights()

    def _open(self, m: dict) -> bool:
        try:
            base = load(m, self.folder)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("lexical postings in %s unusable: %s", self.folder, exc)
            return False
        self.base, self.delta, self.after = base, _empty_delta(), base.seq
        self.events["opened"] += 1
        return True

    def _build_small(self) -> bool:
        """Build in memory when the index is small enough to do it inside a request."""
        if averages()[0] > LAZY_BUILD_LIMIT:
            return False
        base = build()
        if base is None:
            return False
        self.base, self.delta, self.after = base, _empty_delta(), base.seq
        self.events["built"] += 1
        return True

    def _catch_up(self, state: tuple[str, int] | None) -> bool:
        """Fold the papers logged after `self.after` (up to state's seq) into the delta."""
        if self.base is None or state is None:
            return False
        if state[1] <= self.after:
            return True
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT count(*), count(DISTINCT paper_id) FROM {LOG} WHERE seq > %s AND seq <= %s",
                [self.after, state[1]],
            )
            logged, papers = cur.fetchone()
            if logged != state[1] - self.after:
                # Rows were pruned: newer postings files were written meanwhile (map them), or this is a
                # small index whose old log rows were dropped (build it again); else give up.
                m = read_manifest(self.folder)
                if self._usable(m, state) and m["seq"] > self.base.seq and self._open(m):
                    return self._catch_up(state)
                if self.base.path is None and self._build_small():
                    return self._catch_up(state)
                return False
            if len(self.delta.dirty) + papers > DIRTY_LIMIT:
                if self.base.path is None and self._build_small():  # small: build afresh instead
                    return self._catch_up(state)
                log.info("lexical postings: over %d papers changed since they were built; "
                         "run `paperboard index`", DIRTY_LIMIT)
                return False
            cur.execute(f"SELECT DISTINCT paper_id FROM {LOG} WHERE seq > %s AND seq <= %s", [self.after, state[1]])
            new = np.array(sorted(int(r[0]) for r in cur.fetchall()), dtype=np.int64)
        self.delta = self._merge(self.delta, new)
        self.after = state[1]
        self.events["delta_papers"] += len(new)
        return True

    def _merge(self, delta: _Delta, new: np.ndarray) -> _Delta:
        """The delta with `new` papers (re-)read from FTS5: their old delta rows replaced (~0.2 ms a paper)."""
        terms, counts, keys, sizes = _tokenise_papers(new.tolist())
        vocab = dict(delta.vocab)
        ktids = np.repeat(np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), dtype=np.int64,
                                      count=len(terms)), counts)
        papers = keys >> POS_BITS
        weights = np.array([*self.base.weights, 0], dtype=np.int64)
        if len(keys):  # postings: one per (token, paper), with the weighted count
            first = np.flatnonzero(np.concatenate(([True], (ktids[1:] != ktids[:-1]) | (papers[1:] != papers[:-1]))))
            tids, docs = ktids[first], papers[first]
            wtf = np.add.reduceat(weights[(keys >> POS_COL) & 3], first)
        else:
            tids = docs = wtf = np.zeros(0, dtype=np.int64)
        keep = ~_present(new, delta.docs)
        tids, docs, wtf = (
            np.concatenate([old[keep], now]) for old, now in ((delta.tids, tids), (delta.docs, docs), (delta.wtf, wtf))
        )
        by = np.lexsort((docs, tids))
        keep = ~_present(new, delta.keys >> POS_BITS)
        ktids, keys = np.concatenate([delta.ktids[keep], ktids]), np.concatenate([delta.keys[keep], keys])
        kby = np.lexsort((keys, ktids))
        keep = ~_present(new, delta.len_ids)
        len_ids = np.concatenate([delta.len_ids[keep], np.fromiter(sizes, dtype=np.int64, count=len(sizes))])
        len_values = np.concatenate(
            [delta.len_values[keep], np.fromiter(sizes.values(), dtype=np.int64, count=len(sizes))]
        )
        lby = np.argsort(len_ids)
        return _Delta(np.union1d(delta.dirty, new), vocab, tids[by], docs[by], wtf[by], ktids[kby], keys[kby],
                      len_ids[lby], len_values[lby])


_registry: dict[tuple, Postings] = {}
_registry_lock = threading.Lock()


def postings() -> Postings:
    """This process's Postings for the default database (one per data dir and database)."""
    key = (str(directory()), str(connection.settings_dict.get("NAME")))
    with _registry_lock:
        if key not in _registry:
            _registry[key] = Postings(directory())
        return _registry[key]


def forget() -> None:
    """Drop this process's postings (tests: behave like a fresh process)."""
    with _registry_lock:
        _registry.clear()


_pins = threading.local()
_UNPINNED = object()


def current() -> View | None:
    """The view to rank with now (the pinned one inside `pinned()`), or None: FTS5 answers."""
    view = getattr(_pins, "view", _UNPINNED)
    if view is not _UNPINNED:
        return view
    if not enabled():
        return None
    try:
        return postings().current()
    except Exception:  # noqa: BLE001 - the postings only make things faster: FTS5 still answers
        log.warning("lexical postings unavailable; FTS5 answers", exc_info=True)
        return None


@contextmanager
def pinned():
    """One search's scope: the view and FTS5's averages are read once (not by each of the search's
    counts, strict and relaxed steps), so the whole search also sees one version of the index."""
    if getattr(_pins, "view", _UNPINNED) is not _UNPINNED:
        yield
        return
    _pins.view = current()
    _pins.averages = None
    try:
        yield
    finally:
        del _pins.view
        _pins.averages = None


def _averages() -> tuple[int, float]:
    if getattr(_pins, "view", _UNPINNED) is _UNPINNED:
        return averages()
    if _pins.averages is None:
        _pins.averages = averages()
    return _pins.averages


# ---- Queries -----------------------------------------------------------------------------------------------


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
        keep &= ~_present(docs, papers)
    return keep


def _scores(view: View, papers: np.ndarray, lists) -> np.ndarray:
    rows, avgdl = _averages()
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
    view = current()
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
    view = current()
    if view is None or not (words or phrases):
        return None
    lists = _lists(view, [*words, *phrases])
    if lists is None:
        return None
    match = None
    for docs, _ in sorted(lists, key=lambda x: len(x[0])):  # intersect, smallest list first
        match = docs if match is None else match[_present(docs, match)]
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
    view = current()
    if view is None or not words:
        return None
    lists = _lists(view, [*words, *phrases])
    if lists is None:
        return None
    match = np.sort(np.concatenate([docs for docs, _ in lists[: len(words)]]))
    if len(match):
        match = match[np.concatenate(([True], match[1:] != match[:-1]))]
    for docs, _ in lists[len(words) :]:
        match = match[_present(docs, match)]
    keep = _without(view, match, excluded)
    if keep is None:
        return None
    match = match[keep]
    return match, _scores(view, match, lists)


# ---- For the indexer ---------------------------------------------------------------------------------------


def stale() -> int:
    """How many papers the postings files are behind by: every indexed paper when none are usable (files
    missing, another epoch), else the papers logged since. 0 on PostgreSQL, for indexes small enough for
    processes to build their postings in memory, and while at most REBUILD_AT papers changed (processes
    fold those in on their own)."""
    if not enabled():
        return 0
    rows, _ = averages()
    if rows <= LAZY_BUILD_LIMIT:
        return 0
    state = read_state()
    m = read_manifest()
    if state is None or not m or m["epoch"] != state[0] or m["seq"] > state[1] or tuple(m["weights"]) != _weights():
        return rows
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(DISTINCT paper_id), count(*) FROM {LOG} WHERE seq > %s", [m["seq"]])
        papers, logged = cur.fetchone()
    if logged != state[1] - m["seq"]:
        return rows  # the log was pruned past these files
    return int(papers) if papers > REBUILD_AT else 0


def rebuild_files(tick=None) -> dict | None:
    """Build the postings from FTS5 and write them (`paperboard index`). `tick()` is called every few
    seconds meanwhile (a scheduled job's heartbeat); what it raises is raised once the files are written."""
    if not enabled():
        return None
    ticker = _Ticker(tick)
    base = build(ticker)
    if base is None:
        return None
    m = save(base)
    log.info("lexical postings written: %d tokens, %d postings, %d occurrences", m["terms"], m["postings"],
             m["occurrences"])
    ticker.done()
    return m


LOG_KEEP = 20_000  # log rows kept for indexes whose postings live in memory only (they have no files to prune at)


def prune_log() -> int:
    """Drop old log rows of a small index (large ones are pruned when their files are written): a process
    whose postings predate the pruned rows sees the gap and builds them afresh, which is cheap there."""
    if not enabled() or averages()[0] > LAZY_BUILD_LIMIT:
        return 0
    state = read_state()
    if state is None:
        return 0
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"DELETE FROM {LOG} WHERE seq <= %s", [state[1] - LOG_KEEP])
        return cur.rowcount or 0
