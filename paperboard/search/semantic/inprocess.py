"""In-process index: exact search, a float32 matrix times the query (normalised dot product = cosine), for
SQLite and for PostgreSQL without pgvector. It lives under `$PAPERBOARD_DATA_DIR/vectors/<model>/`:

    manifest.json       {"format", "model", "dim", "epoch", "max_seq", "count", "matrix", "ids"}
    matrix-<tok>.npy    (count, 384) float32, rows in paper-id order; memory-mapped, so worker
                        processes share one copy through the page cache
    ids-<tok>.npy       (count,) int64 paper ids, sorted

A process keeps the files mapped plus a small in-memory *delta*: rows written after the manifest's
`max_seq` (fetched by `seq`, one indexed query). A different `epoch` (the table was rebuilt, or another
database) means a full rebuild of the files; a delta over DELTA_LIMIT rows, or `persist()` (the indexer
calls it after each run), writes new files. Writers of the files hold `.lock` (flock); the manifest is
replaced atomically, last.

Rows of deleted papers may linger in the files until the next rebuild; `semantic.search_vector` drops
ids that are no longer visible papers, so they are never shown."""

from __future__ import annotations

import logging
import os
import re
import secrets
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connections
from django.utils import timezone

from paperboard.search import snapshot
from paperboard.search.semantic import embed
from paperboard.search.semantic.store import DIM, TABLE, State, from_bytes, read_state
from paperboard.search.snapshot import file_lock

logger = logging.getLogger("paperboard.search")


FORMAT = 1


DELTA_LIMIT = 2000


# Beyond EXACT_LIMIT vectors a query first ranks every paper by the Hamming distance between sign bits
# (48 bytes per paper, kept in memory column by column, ~4 ms at 275k papers on 2 cores against ~15 ms for
# the float matrix), then re-ranks the RERANK nearest (and any other code tied with the RERANK-th) by exact
# cosine. Measured on the whole corpus with the
# 102 evaluation queries plus 200 papers as queries: recall@10 0.998 and recall@100 0.966 of exact search
# at 2,000 candidates (bench/results/search_latency.md).
EXACT_LIMIT = 50_000


RERANK = 2000


PAGE = 4096


_HEADER_LEN = 128


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", model).strip("-")


def _npy_header(rows: int, dim: int) -> bytes:
    """A .npy (version 1.0) header of exactly _HEADER_LEN bytes, so the data can be written before the
    row count is known and the header filled in last."""
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, dim)
    size = _HEADER_LEN - 10
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size) + (text.ljust(size - 1) + "\n").encode("latin1")


@dataclass
class _Base:
    epoch: str
    max_seq: int
    ids: np.ndarray  # sorted int64
    matrix: np.ndarray  # (n, DIM) float32, memory-mapped
    codes: np.ndarray | None = None  # (DIM // 64, n) uint64 sign bits, column by column; None: exact search


def sign_codes(matrix: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """(DIM // 64, n) uint64: bit i of a paper's code is set when its vector's i-th number is positive."""
    n = len(matrix)
    out = np.empty((DIM // 64, n), dtype=np.uint64)
    for i in range(0, n, chunk):
        packed = np.packbits(np.asarray(matrix[i : i + chunk]) > 0, axis=1)
        out[:, i : i + chunk] = np.ascontiguousarray(packed).view(np.uint64).T
    return out


def hamming(codes: np.ndarray, query) -> np.ndarray:
    """Hamming distance of every code to the query's sign bits (uint16, one per paper)."""
    q = np.packbits(np.asarray(query) > 0).view(np.uint64)
    n = codes.shape[1]
    dist = np.zeros(n, dtype=np.uint16)
    xor, bits = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint8)
    for j in range(len(codes)):  # in place: no temporary arrays per column
        np.bitwise_xor(codes[j], q[j], out=xor)
        np.bitwise_count(xor, out=bits)
        np.add(dist, bits, out=dist)
    return dist


def _dot_rows(matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """`matrix @ q` for a few thousand rows, on this thread: numpy's BLAS (OpenBLAS) splits such a product
    over 2 threads and, on a busy machine, waited up to ~8 ms for the second one (p90 8 ms against 0.2 ms
    here). The result agrees with `@` to float32 rounding (~1e-7)."""
    return np.einsum("ij,j->i", matrix, q)


def nearest_codes(dist: np.ndarray, n: int) -> np.ndarray:
    """Positions (ascending) of the `n` smallest Hamming distances, and of every other code as near as
    the n-th (ties at the cut are all kept, so a few more than n), leaving out masked ones (uint16 max).
    Distances are small integers, so a histogram finds the cut: ~0.7 ms at 275k codes where
    `np.argpartition` took ~2.6 ms (and picked among the ties at the cut arbitrarily)."""
    masked = np.iinfo(np.uint16).max
    cut = int(np.searchsorted(np.cumsum(np.bincount(dist, minlength=1)), n))
    return np.flatnonzero(dist <= min(cut, masked - 1))


class InProcessIndex:
    """Exact nearest-neighbour search over every stored vector of one model, kept in step with the table."""

    def __init__(self, directory: Path, model: str, using: str = "default"):
        self.dir = Path(directory)
        self.model = model
        self.using = using
        self._lock = threading.RLock()
        self._base: _Base | None = None
        self._delta: dict[int, np.ndarray] = {}
        self._delta_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._seen: tuple[str, int] | None = None  # (epoch, seq) this process has caught up to
        self.events: dict[str, int] = {"opened": 0, "rebuilt": 0, "delta_rows": 0, "persisted": 0}

    # -- files

    def read_manifest(self) -> dict | None:
        return snapshot.read_manifest(self.dir, format=FORMAT, model=self.model, dim=DIM)

    def _open(self, m: dict) -> None:
        ids = np.load(self.dir / m["ids"])
        if m["count"]:
            matrix = np.load(self.dir / m["matrix"], mmap_mode="r")
        else:
            matrix = np.zeros((0, DIM), dtype=np.float32)
        if matrix.shape != (len(ids), DIM):
            raise ValueError(f"vector index files disagree: {matrix.shape} vs {len(ids)} ids")
        codes = None
        if len(ids) > EXACT_LIMIT:
            codes = np.load(self.dir / m["codes"]) if m.get("codes") else sign_codes(matrix)
            if codes.shape != (DIM // 64, len(ids)):
                raise ValueError(f"vector index files disagree: codes {codes.shape} vs {len(ids)} ids")
        self._base = _Base(m["epoch"], int(m["max_seq"]), ids, matrix, codes)
        self._delta, self._delta_cache = {}, None
        self._seen = (m["epoch"], int(m["max_seq"]))
        self.events["opened"] += 1

    def _write_files(self, epoch: str, max_seq: int, fill) -> dict:
        """Write new files: the matrix (rows written by `fill(fh)`, which returns their ids in order),
        its header once the row count is known, the ids, and last the manifest that names them."""
        self.dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(6)
        matrix_name, ids_name = f"matrix-{token}.npy", f"ids-{token}.npy"
        with open(self.dir / matrix_name, "w+b") as fh:
            fh.write(_npy_header(0, DIM))
            ids = np.asarray(fill(fh), dtype=np.int64)
            fh.seek(0)
            fh.write(_npy_header(len(ids), DIM))
            fh.flush()
            os.fsync(fh.fileno())
        np.save(self.dir / ids_name, ids)
        codes_name = None
        if len(ids) > EXACT_LIMIT:
            codes_name = f"codes-{token}.npy"
            np.save(self.dir / codes_name, sign_codes(np.load(self.dir / matrix_name, mmap_mode="r")))
        m = {
            "format": FORMAT, "model": self.model, "dim": DIM, "epoch": epoch, "max_seq": int(max_seq),
            "count": int(len(ids)), "matrix": matrix_name, "ids": ids_name, "codes": codes_name,
            "written": timezone.now().isoformat(),
        }
        snapshot.publish(self.dir, m, token, patterns=["matrix-*.npy", "ids-*.npy", "codes-*.npy"],
                         keep=[matrix_name, ids_name, codes_name])
        return m

    def _rebuild_files(self, state: State) -> dict:
        """Read every row of the model (keyset pages, paper-id order) into new files labelled with `state`,
        which was read before the rows: rows written meanwhile carry a larger seq and come in as delta."""
        conn = connections[self.using]

        def fill(fh) -> list[int]:
            ids: list[int] = []
            last = -1
            with conn.cursor() as cur:
                while True:
                    cur.execute(
                        f"SELECT paper_id, vector FROM {TABLE} WHERE model = %s AND paper_id > %s "
                        "ORDER BY paper_id LIMIT %s",
                        [self.model, last, PAGE],
                    )
                    rows = cur.fetchall()
                    if not rows:
                        return ids
                    for pid, data in rows:
                        data = bytes(data)
                        if len(data) == DIM * 4:
                            ids.append(int(pid))
                            fh.write(data)
                    last = int(rows[-1][0])

        m = self._write_files(state.epoch, state.max_seq, fill)
        self.events["rebuilt"] += 1
        logger.info("vector index %s rebuilt: %d vectors", self.model, m["count"])
        return m

    # -- keeping in step

    def sync(self, compact: bool = True) -> None:
        """Catch up with the table: open newer files, rebuild them on a new epoch, fetch the delta
        (and, when `compact` and the delta has grown past DELTA_LIMIT rows, write new files)."""
        state = read_state(self.model, self.using)
        with self._lock:
            if state is None:
                self._base, self._delta, self._delta_cache, self._seen = None, {}, None, None
                return
            if self._seen == (state.epoch, state.max_seq):
                return
            base = self._base
            if base is None or base.epoch != state.epoch or base.max_seq > state.max_seq or (
                self._seen and self._seen[1] > state.max_seq
            ):
                self._load_or_rebuild(state)
            else:
                m = self.read_manifest()
                if self._usable(m, state) and base.max_seq < m["max_seq"]:
                    # Another process wrote newer files: cheaper than a long delta.
                    if not self._try_open(m):
                        self._load_or_rebuild(state)
            self._fetch_delta(state)
            if compact and len(self._delta) > DELTA_LIMIT:
                self.persist()

    def _usable(self, m: dict | None, state: State) -> bool:
        return bool(m) and m["epoch"] == state.epoch and m["max_seq"] <= state.max_seq

    def _try_open(self, m: dict) -> bool:
        try:
            self._open(m)
            return True
        except (FileNotFoundError, ValueError, OSError):  # replaced under us, or damaged
            return False

    def _load_or_rebuild(self, state: State) -> None:
        """Map the files when they belong to this epoch, else (under the lock) rebuild them."""
        m = self.read_manifest()
        if self._usable(m, state) and self._try_open(m):
            return
        with file_lock(self.dir / ".lock"):
            m = self.read_manifest()  # another process may have just written them
            if self._usable(m, state) and self._try_open(m):
                return
            self._open(self._rebuild_files(state))

    def _fetch_delta(self, state: State) -> None:
        assert self._seen is not None
        epoch, after = self._seen
        newest = max(after, state.max_seq)
        with connections[self.using].cursor() as cur:
            cur.execute(
                f"SELECT paper_id, seq, vector FROM {TABLE} WHERE model = %s AND seq > %s ORDER BY seq",
                [self.model, after],
            )
            for pid, seq, data in cur.fetchall():
                vec = from_bytes(data)
                if vec.shape == (DIM,):
                    self._delta[int(pid)] = vec
                    self.events["delta_rows"] += 1
                newest = max(newest, int(seq))
        self._delta_cache = None
        self._seen = (epoch, newest)

    def persist(self) -> None:
        """Write the mapped rows and the delta as new files (the indexer calls this after a run)."""
        self.sync(compact=False)
        with self._lock, file_lock(self.dir / ".lock"):
            if self._base is None or self._seen is None:
                return
            m = self.read_manifest()
            if not self._delta and m and (m["epoch"], m["max_seq"]) == self._seen:
                return
            base, delta = self._base, dict(self._delta)
            delta_ids = np.array(sorted(delta), dtype=np.int64)
            ids = np.union1d(base.ids, delta_ids)

            def fill(fh) -> None:
                for i in range(0, len(ids), PAGE):
                    chunk = ids[i : i + PAGE]
                    out = np.empty((len(chunk), DIM), dtype="<f4")
                    if len(base.ids):
                        pos = np.minimum(np.searchsorted(base.ids, chunk), len(base.ids) - 1)
                        in_base = base.ids[pos] == chunk
                        out[in_base] = base.matrix[pos[in_base]]
                    for j, pid in enumerate(chunk.tolist()):
                        if pid in delta:
                            out[j] = delta[pid]
                    fh.write(out.tobytes())
                return ids

            m = self._write_files(self._seen[0], self._seen[1], fill)
            self._open(m)
            self.events["persisted"] += 1

    # -- search

    def _delta_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(delta ids, delta matrix, positions in the base that the delta supersedes)."""
        if self._delta_cache is None:
            ids = np.array(list(self._delta), dtype=np.int64)
            mat = np.stack(list(self._delta.values())) if self._delta else np.zeros((0, DIM), dtype=np.float32)
            self._delta_cache = (ids, mat, self._positions(ids))
        return self._delta_cache

    def _positions(self, ids: np.ndarray) -> np.ndarray:
        base = self._base
        if base is None or not len(base.ids) or not len(ids):
            return np.zeros(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(base.ids, ids), len(base.ids) - 1)
        return pos[base.ids[pos] == ids]

    def __len__(self) -> int:
        self.sync()
        n = len(self._base.ids) if self._base else 0
        d_ids, _, sup = self._delta_arrays()
        return n + len(d_ids) - len(sup)

    def nearest(self, query, k: int, exclude_ids=(), *, sync: bool = True) -> list[tuple[int, float]]:
        """The `k` nearest stored vectors to `query`: [(paper_id, cosine similarity)], best first.
        `sync=False` searches what this process holds without asking the database (a worker thread)."""
        if sync:
            self.sync()
        q = np.asarray(query, dtype=np.float32)
        with self._lock:
            base = self._base
            if base is None or k <= 0:
                return []
            exclude = np.array(sorted({int(x) for x in exclude_ids}), dtype=np.int64)
            d_ids, d_mat, superseded = self._delta_arrays()
            all_ids, all_scores = [], []
            if len(base.ids) and base.codes is not None and max(RERANK, 2 * k) < len(base.ids):
                dist = hamming(base.codes, q)
                dist[superseded] = np.iinfo(np.uint16).max
                dist[self._positions(exclude)] = np.iinfo(np.uint16).max
                cand = nearest_codes(dist, max(RERANK, 2 * k))
                all_ids.append(base.ids[cand])
                all_scores.append(_dot_rows(np.asarray(base.matrix[cand]), q))
            elif len(base.ids):
                scores = base.matrix @ q
                scores[superseded] = -np.inf
                scores[self._positions(exclude)] = -np.inf
                top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
                all_ids.append(base.ids[top])
                all_scores.append(scores[top])
            if len(d_ids):
                scores = _dot_rows(d_mat, q)
                if len(exclude):
                    scores[np.isin(d_ids, exclude)] = -np.inf
                all_ids.append(d_ids)
                all_scores.append(scores)
        if not all_ids:
            return []
        ids, scores = np.concatenate(all_ids), np.concatenate(all_scores)
        keep = np.isfinite(scores)
        ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))[:k]
        return [(int(ids[i]), float(scores[i])) for i in order]


_indexes = snapshot.Registry()


def index_dir(model: str) -> Path:
    return Path(settings.DATA_DIR) / "vectors" / _slug(model)


def in_process_index(model: str | None = None, using: str = "default") -> InProcessIndex:
    """This process's index for `model` on database `using` (one per data dir, database and model)."""
    model = model or embed.model_key()
    directory = index_dir(model)
    key = (str(directory), model, using, str(connections[using].settings_dict.get("NAME")))
    return _indexes.get(key, lambda: InProcessIndex(directory, model, using))


def forget_loaded_indexes() -> None:
    """Drop this process's open indexes (tests: behave like a freshly started process)."""
    _indexes.clear()
