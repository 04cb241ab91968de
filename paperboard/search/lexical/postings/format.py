"""The compact postings' format: the FTS5 tables they are read from, the log and epoch that keep them in
step, and the arrays (`Base`) as they are saved to and loaded from memory-mapped files."""

from __future__ import annotations

import bisect
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from paperboard.search import snapshot
from paperboard.search.snapshot import file_lock

log = logging.getLogger(__name__)


FTS = "search_fts"


STATE = "search_lexicalstate"


LOG = "search_lexicallog"


TOKENIZER = "porter unicode61 remove_diacritics 2"  # lexical.SQLITE_FTS_DDL's


COLUMNS = ("title", "authors", "abstract")


FORMAT = 3


TOKEN_CACHE_SIZE = 50_000


# An occurrence's place as one number: column << POS_COL | offset. A phrase's papers are found by matching
# (paper << POS_BITS | place) keys, shifted by each token's place in the phrase.
POS_COL, POS_BITS = 18, 20


OFFSET_MASK = (1 << POS_COL) - 1


def enabled() -> bool:
    return connection.vendor == "sqlite"


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


def varints(data: bytes) -> list[int]:
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
    values = varints(bytes(row[0])) if row and row[0] else []
    rows = values[0] if values else 0
    tokens = sum(values[1 : 1 + len(COLUMNS)])
    return rows, (tokens / rows if rows else 0.0)


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


def directory() -> Path:
    return Path(settings.DATA_DIR) / "lexical"


def read_manifest(folder: Path | None = None) -> dict | None:
    return snapshot.read_manifest(folder or directory(), format=FORMAT)


def save(base: Base, folder: Path | None = None) -> dict:
    """Write `base` as files (a new sub-folder, then the manifest naming it, replaced atomically), drop the
    older folders, and prune the log rows the new files cover."""
    folder = folder or directory()
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / ".lock"):
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
        snapshot.publish(folder, m, name, patterns=["postings-*"], keep=[name])
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
