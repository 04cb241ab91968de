"""The postings a process answers from: a base (files or memory) plus a delta of the papers logged
since, as one `View`; one `Postings` per database, and a view pinned for the length of a search."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import connection

from paperboard.search import snapshot
from paperboard.search.lexical.postings import builder
from paperboard.search.lexical.postings.builder import tokenise_papers, whole_weights
from paperboard.search.lexical.postings.format import (
    LOG,
    OFFSET_MASK,
    POS_BITS,
    POS_COL,
    Base,
    averages,
    directory,
    enabled,
    load,
    read_manifest,
    read_state,
)

log = logging.getLogger(__name__)


DIRTY_LIMIT = 10_000  # papers changed since the postings were built that a process still folds in


PHRASE_CACHE_SIZE = 256  # phrases evaluated, kept per view (a query asks for a phrase's count, then its list)


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


def present(docs: np.ndarray, ids: np.ndarray) -> np.ndarray:
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
                papers = papers[present(base.docs[int(base.starts[i]) : int(base.starts[i + 1])], papers)]
            if len(self.delta.dirty) and len(papers):
                papers = papers[~present(self.delta.dirty, papers)]
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
                n -= int(present(base.docs[int(base.starts[i]) : int(base.starts[i + 1])], delta.dirty).sum())
        lo, hi = self._range(delta.tids, toks[0])
        return n + hi - lo

    def lengths(self, ids: np.ndarray) -> np.ndarray:
        """Length in tokens (float64) of each of these papers, which must be in the index."""
        out = np.zeros(len(ids), dtype=np.float64)
        inside = ids < len(self.base.dlen)
        out[inside] = self.base.dlen[ids[inside]]
        delta = self.delta
        if len(delta.len_ids):
            ok = present(delta.len_ids, ids)
            out[ok] = delta.len_values[np.searchsorted(delta.len_ids, ids[ok])]
        return out


def _phrase_starts(keys_per_token: list[np.ndarray]) -> np.ndarray:
    """Keys of the places where the tokens follow each other (each list: one token's sorted occurrence
    keys, in phrase order)."""
    starts = None
    for j, keys in enumerate(keys_per_token):
        if j:
            keys = keys[(keys & OFFSET_MASK) >= j] - j  # where the phrase would start
        starts = keys if starts is None else starts[present(keys, starts)]
        if not len(starts):
            break
    return starts if starts is not None else np.zeros(0, dtype=np.int64)


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
        return bool(m) and m["epoch"] == state[0] and m["seq"] <= state[1] and tuple(m["weights"]) == whole_weights()

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
        if averages()[0] > builder.LAZY_BUILD_LIMIT:
            return False
        base = builder.build()
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
        terms, counts, keys, sizes = tokenise_papers(new.tolist())
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
        keep = ~present(new, delta.docs)
        tids, docs, wtf = (
            np.concatenate([old[keep], now]) for old, now in ((delta.tids, tids), (delta.docs, docs), (delta.wtf, wtf))
        )
        by = np.lexsort((docs, tids))
        keep = ~present(new, delta.keys >> POS_BITS)
        ktids, keys = np.concatenate([delta.ktids[keep], ktids]), np.concatenate([delta.keys[keep], keys])
        kby = np.lexsort((keys, ktids))
        keep = ~present(new, delta.len_ids)
        len_ids = np.concatenate([delta.len_ids[keep], np.fromiter(sizes, dtype=np.int64, count=len(sizes))])
        len_values = np.concatenate(
            [delta.len_values[keep], np.fromiter(sizes.values(), dtype=np.int64, count=len(sizes))]
        )
        lby = np.argsort(len_ids)
        return _Delta(np.union1d(delta.dirty, new), vocab, tids[by], docs[by], wtf[by], ktids[kby], keys[kby],
                      len_ids[lby], len_values[lby])


_registry = snapshot.Registry()


def postings() -> Postings:
    """This process's Postings for the default database (one per data dir and database)."""
    folder = directory()
    return _registry.get((str(folder), str(connection.settings_dict.get("NAME"))), lambda: Postings(folder))


def forget() -> None:
    """Drop this process's postings (tests: behave like a fresh process)."""
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


def pinned_averages() -> tuple[int, float]:
    if getattr(_pins, "view", _UNPINNED) is _UNPINNED:
        return averages()
    if _pins.averages is None:
        _pins.averages = averages()
    return _pins.averages
