"""Embedding storage: the `search_embedding` table, one row per paper with the float32 bytes of its unit
vector. Each batch of writes takes the next `seq` of its model's `SemanticState` row in the same
transaction, so `(epoch, max_seq)` names a version of the whole table: readers learn in one primary-key
read whether they are current."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import numpy as np
from django.db import connections, transaction
from django.utils import timezone

from paperboard.search.models import Embedding, SemanticState
from paperboard.search.semantic import embed, pgvector

logger = logging.getLogger("paperboard.search")


TABLE = "search_embedding"


DIM = embed.DIM


@dataclass(frozen=True)
class State:
    epoch: str
    max_seq: int
    count: int


@dataclass(frozen=True)
class Row:
    paper_id: int
    paper_hash: str
    text_hash: str
    vector: np.ndarray


def to_bytes(vec) -> bytes:
    return np.asarray(vec, dtype="<f4").tobytes()


def from_bytes(data) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


def read_state(model: str | None = None, using: str = "default") -> State | None:
    model = model or embed.model_key()
    with connections[using].cursor() as cur:
        cur.execute("SELECT epoch, max_seq, count FROM search_semanticstate WHERE model = %s", [model])
        row = cur.fetchone()
    return State(row[0], int(row[1]), int(row[2])) if row else None


def has_embeddings(model: str | None = None, using: str = "default") -> bool:
    """Whether any paper has an embedding of the current model (one primary-key read)."""
    state = read_state(model, using)
    return state is not None and state.count > 0


def load(paper_ids, model: str | None = None, using: str = "default") -> dict[int, np.ndarray]:
    """Stored vectors of these papers (current model), by paper id."""
    model = model or embed.model_key()
    ids = [int(x) for x in paper_ids]
    out: dict[int, np.ndarray] = {}
    with connections[using].cursor() as cur:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join(["%s"] * len(chunk))
            cur.execute(
                f"SELECT paper_id, vector FROM {TABLE} WHERE model = %s AND paper_id IN ({marks})", [model, *chunk]
            )
            for pid, data in cur.fetchall():
                vec = from_bytes(data)
                if vec.shape == (DIM,):
                    out[int(pid)] = vec
    return out


def write(rows: list[Row], model: str | None = None, using: str = "default") -> int:
    """Insert or replace the embeddings of `rows` in one transaction; returns the batch's seq."""
    model = model or embed.model_key()
    if not rows:
        return 0
    conn = connections[using]
    now = conn.ops.adapt_datetimefield_value(timezone.now())
    ids = [r.paper_id for r in rows]
    with transaction.atomic(using=using):
        SemanticState.objects.using(using).get_or_create(model=model, defaults={"epoch": secrets.token_hex(8)})
        state = SemanticState.objects.using(using).select_for_update().get(model=model)
        seq = state.max_seq + 1
        with conn.cursor() as cur:
            marks = ",".join(["%s"] * len(ids))
            cur.execute(f"SELECT paper_id FROM {TABLE} WHERE model = %s AND paper_id IN ({marks})", [model, *ids])
            existing = {int(r[0]) for r in cur.fetchall()}
            cur.executemany(
                f"INSERT INTO {TABLE} (paper_id, model, paper_hash, text_hash, vector, seq, created) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (paper_id) DO UPDATE SET "
                "model = excluded.model, paper_hash = excluded.paper_hash, text_hash = excluded.text_hash, "
                "vector = excluded.vector, seq = excluded.seq, created = excluded.created",
                [(r.paper_id, model, r.paper_hash, r.text_hash, to_bytes(r.vector), seq, now) for r in rows],
            )
            if pgvector.enabled(using):
                cur.executemany(
                    f"UPDATE {TABLE} SET {pgvector.COLUMN} = %s::vector WHERE paper_id = %s",
                    [(pgvector.literal(r.vector), r.paper_id) for r in rows],
                )
        state.max_seq = seq
        state.count += len(set(ids) - existing)
        state.save(update_fields=["max_seq", "count", "modified"])
    return seq


def touch(pairs: list[tuple[int, str]], using: str = "default") -> None:
    """Record a new Paper.content_hash for embeddings whose text did not change (no new vector)."""
    if pairs:
        with transaction.atomic(using=using), connections[using].cursor() as cur:
            cur.executemany(f"UPDATE {TABLE} SET paper_hash = %s WHERE paper_id = %s", [(h, pid) for pid, h in pairs])


def delete_all(model: str | None = None, using: str = "default") -> None:
    """Drop every embedding (of `model`, or all of them) and the version rows: the next run starts over."""
    with transaction.atomic(using=using):
        qs = Embedding.objects.using(using)
        states = SemanticState.objects.using(using)
        if model:
            qs, states = qs.filter(model=model), states.filter(model=model)
        qs.delete()
        states.delete()
