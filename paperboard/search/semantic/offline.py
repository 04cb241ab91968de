"""Embed elsewhere, import here: the semantic index of a big corpus computed on a GPU machine.

    paperboard index --export-texts texts.jsonl.xz      # here: what needs embedding
    python tools/embed_offline.py texts.jsonl.xz vectors.npz --device cuda   # there: no Django needed
    paperboard index --import-vectors vectors.npz       # here: checked, then stored like our own

The texts file (JSON lines; `.gz` / `.xz` compress it): a header line
`{"format": "paperboard-texts/1", "model": ..., "max_tokens": ..., "count": n}`, then `{"id", "text"}` per
paper. Each text is the paper's `title. abstract` cut to its first `max_tokens + WORD_MARGIN` words: every
word is at least one word piece, so the model, which reads `max_tokens` word pieces, sees exactly what it
would see here, and the file is a third smaller.

The vectors file (`.npz`): `ids` (int64), `check` (uint64: the first 8 bytes of blake2b of the text that
was embedded), `vectors` (float32 or float16, or int8 with a per-row float32 `scale`), and `model`, `max_tokens`.
Import recomputes each paper's text from the database: a paper whose text changed since the export (or
that is gone, or hidden) is skipped and reported, so an old file never stores a stale vector; the
indexer embeds those on its next run. A vector file of another model or truncation is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.db import connections

from paperboard.search.semantic import embed, store
from paperboard.search.semantic.engine import SemanticIndexer
from paperboard.search.offline_format import (
    TEXTS_FORMAT,
    OfflineError,
    check_of,
    cut,
    dequantise,
    open_text,
)

IMPORT_BATCH = 1000


def _papers(using: str, pending_only: bool) -> Iterator[tuple[int, str, str, str]]:
    """(id, title, abstract, content_hash) of visible papers (only those the indexer would embed, with
    `pending_only`), by id, streamed in pages."""
    if pending_only:
        where, params = SemanticIndexer(using)._pending_sql(), [False, embed.model_key()]
    else:
        where, params = "FROM papers_paper p WHERE p.hidden = %s", [False]
    after = -1
    with connections[using].cursor() as cur:
        while True:
            cur.execute(
                f"SELECT p.id, p.title, p.abstract, p.content_hash {where} AND p.id > %s ORDER BY p.id LIMIT 5000",
                [*params, after],
            )
            rows = cur.fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]


def export_texts(path: Path, *, pending_only: bool = True, using: str = "default") -> int:
    """Write the texts file for the papers that need embedding (all visible papers with pending_only=False)."""
    max_tokens = embed.max_tokens()
    rows = [(pid, cut(embed.paper_text(t, a), max_tokens)) for pid, t, a, _ in _papers(using, pending_only)]
    with open_text(path, "w") as fh:
        header = {"format": TEXTS_FORMAT, "model": embed.MODEL_NAME, "max_tokens": max_tokens, "count": len(rows)}
        fh.write(json.dumps(header) + "\n")
        for pid, text in rows:
            fh.write(json.dumps({"id": pid, "text": text}, ensure_ascii=False) + "\n")
    return len(rows)








@dataclass
class ImportReport:
    stored: int = 0
    unchanged: int = 0
    stale: int = 0
    missing: int = 0
    bad: int = 0


def import_vectors(
    path: Path, *, using: str = "default", progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Store the vectors of a vectors file, each checked against the paper's current text."""
    try:
        data = np.load(Path(path), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise OfflineError(f"{path}: not a vectors file ({exc})") from None
    for key in ("ids", "check", "vectors", "model", "max_tokens"):
        if key not in data:
            raise OfflineError(f"{path}: no {key!r} array")
    model, max_tokens = str(data["model"]), int(data["max_tokens"])
    if model != embed.MODEL_NAME or max_tokens != embed.max_tokens():
        raise OfflineError(
            f"{path}: vectors of {model}/{max_tokens}, but this instance uses {embed.model_key()} "
            "(PAPERBOARD_SEMANTIC_MAX_TOKENS)"
        )
    ids = np.asarray(data["ids"], dtype=np.int64)
    checks = np.asarray(data["check"], dtype=np.uint64)
    vecs = dequantise(data)
    if vecs.shape != (len(ids), store.DIM) or len(checks) != len(ids):
        raise OfflineError(f"{path}: arrays of mismatched shapes {vecs.shape}, {len(ids)} ids, {len(checks)} checks")
    report = ImportReport()
    model_key = embed.model_key()
    done = 0
    for start in range(0, len(ids), IMPORT_BATCH):
        chunk = [int(x) for x in ids[start : start + IMPORT_BATCH]]
        current = _current(chunk, using)
        stored = _stored_text_hashes(chunk, model_key, using)
        rows, same = [], []
        for offset, pid in enumerate(chunk):
            i = start + offset
            if pid not in current:
                report.missing += 1
                continue
            title, abstract, content_hash = current[pid]
            text = embed.paper_text(title, abstract)
            if check_of(cut(text, max_tokens)) != int(checks[i]):
                report.stale += 1
                continue
            if not np.all(np.isfinite(vecs[i])) or not np.any(vecs[i]):
                report.bad += 1
                continue
            text_hash = embed.text_hash(text)
            if stored.get(pid) == text_hash:
                same.append((pid, content_hash))
                report.unchanged += 1
                continue
            rows.append(store.Row(pid, content_hash, text_hash, vecs[i]))
        store.touch(same, using=using)
        if rows:
            store.write(rows, model_key, using=using)
            report.stored += len(rows)
        done += len(chunk)
        if progress:
            progress(done)
    return report


def _current(ids: list[int], using: str) -> dict[int, tuple[str, str, str]]:
    marks = ",".join(["%s"] * len(ids))
    with connections[using].cursor() as cur:
        cur.execute(
            f"SELECT id, title, abstract, content_hash FROM papers_paper WHERE hidden = %s AND id IN ({marks})",
            [False, *ids],
        )
        return {int(r[0]): (r[1], r[2], r[3]) for r in cur.fetchall()}


def _stored_text_hashes(ids: list[int], model: str, using: str) -> dict[int, str]:
    marks = ",".join(["%s"] * len(ids))
    with connections[using].cursor() as cur:
        cur.execute(
            f"SELECT paper_id, text_hash FROM {store.TABLE} WHERE model = %s AND paper_id IN ({marks})",
            [model, *ids],
        )
        return {int(r[0]): r[1] for r in cur.fetchall()}

