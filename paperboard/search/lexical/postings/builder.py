"""Building the compact postings from FTS5 itself (fts5vocab), tokenising text with a scratch FTS5 table,
and the upkeep `paperboard index` does: whether to rebuild the files, rebuilding them, pruning the log."""

from __future__ import annotations

import json
import logging
import secrets
import time

import numpy as np
from django.db import connection, transaction

from paperboard.search.lexical import common
from paperboard.search.lexical.postings.format import (
    COLUMNS,
    FTS,
    LOG,
    OFFSET_MASK,
    POS_BITS,
    POS_COL,
    STATE,
    TOKEN_CACHE_SIZE,
    TOKENIZER,
    Base,
    averages,
    enabled,
    read_manifest,
    read_state,
    save,
    varints,
)

log = logging.getLogger(__name__)


REBUILD_AT = 2_000  # `paperboard index` rebuilds the postings files when more papers than this changed


LAZY_BUILD_LIMIT = 20_000  # a process builds missing postings of an index this small itself, in memory


SCRATCH = "pb_postings_scratch"  # a temporary FTS5 table (per connection) that tokenises for us


_token_cache: dict[str, tuple[str, ...]] = {}


def whole_weights() -> tuple[int, ...] | None:
    """common.WEIGHTS as whole numbers, or None when they are not (the compact counts cannot hold those)."""
    if any(float(w) != int(w) for w in common.WEIGHTS):
        return None
    return tuple(int(w) for w in common.WEIGHTS)


def _raw_cursor():
    connection.ensure_connection()
    return connection.connection.cursor()


_COLUMN_CODE = "CASE col WHEN 'title' THEN 0 WHEN 'authors' THEN 1 ELSE 2 END"


BULK_TERM = 1024  # tokens with more occurrences than this are read one by one; the rest by ranges of tokens


def build(tick=None) -> Base | None:
    """Postings of the whole index, read from FTS5 in one snapshot (None: weights that are not whole
    numbers, or an offset beyond 2**18 tokens). `tick()` is called every few seconds (a scheduled job's
    heartbeat): what it raises is kept by the _Ticker `tick` may be, for its caller to raise later."""
    weights = whole_weights()
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
                dlen[pid] = sum(varints(bytes(sz))[: len(COLUMNS)])
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


def tokenise_papers(ids: list[int]) -> tuple[list[str], np.ndarray, np.ndarray, dict[int, int]]:
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
            int(pid): sum(varints(bytes(sz))[: len(COLUMNS)])
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
    if state is None or not m or m["epoch"] != state[0] or m["seq"] > state[1] or tuple(m["weights"]) != whole_weights():
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
