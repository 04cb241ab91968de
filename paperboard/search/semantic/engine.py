"""Semantic search: embeddings of `title. abstract`, nearest neighbours by cosine similarity.

    search(text, limit) -> list[Hit]                         # [] when no embeddings exist yet
    search_vector(vec, limit, exclude_ids=()) -> list[Hit]   # visible papers only, best first
    SemanticIndexer                                          # `paperboard index` builds the embeddings

Where the vectors are searched: pgvector in PostgreSQL when it is enabled there (see `pgvector.py`) and
PAPERBOARD_SEMANTIC_INDEX is `auto`; otherwise the in-process index of `inprocess.py`.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable

import numpy as np
from django.conf import settings
from django.db import connections

from paperboard.papers.models import Paper
from paperboard.search.hits import Hit
from paperboard.search.semantic import embed, inprocess, pgvector, store

logger = logging.getLogger("paperboard.search")

SOURCE = "semantic"
DEFAULT_BATCH_SIZE = 64
MAX_COMMIT_BATCH = 256  # papers per transaction at most: ~15-50 s of CPU work, so Ctrl-C loses little
ENCODE_BATCH = 64  # texts per forward pass (`paperboard index --batch-size 1000` must not mean 1000 at once)
MAX_LIVE_EMBEDS = 5  # papers one request may embed on the fly (~0.2 s each on 2 CPU cores)


def backend(using: str = "default") -> str:
    """`pgvector` or `numpy`: where nearest-neighbour queries run."""
    if settings.PAPERBOARD_SEMANTIC_INDEX == "auto" and pgvector.enabled(using):
        return "pgvector"
    return "numpy"


def nearest(vec, k: int, exclude_ids=(), using: str = "default") -> list[tuple[int, float]]:
    """Raw nearest neighbours from the active backend (may include hidden or deleted papers)."""
    model = embed.model_key()
    if backend(using) == "pgvector":
        return pgvector.nearest(vec, k, model, exclude_ids, using=using)
    return inprocess.in_process_index(model, using).nearest(vec, k, exclude_ids)


def search_vector(
    vec, limit: int, exclude_ids: Iterable[int] = (), using: str = "default", first: list | None = None
) -> list[Hit]:
    """The `limit` visible papers whose embeddings are nearest to `vec`, best first, without `exclude_ids`.
    `first`: the raw `nearest(vec, limit + 10)` already computed (see `prefetch`)."""
    if limit <= 0 or not store.has_embeddings(using=using):
        return []
    vec = np.asarray(vec, dtype=np.float32)
    norm = float(np.linalg.norm(vec))
    if not norm or not np.isfinite(norm):
        return []
    vec = vec / norm
    exclude = {int(x) for x in exclude_ids}
    k = limit + 10
    while True:
        found = first if first is not None and not exclude else nearest(vec, k, exclude, using)
        first = None
        ids = [pid for pid, _ in found]
        visible = _visible(ids, using)
        hits = [Hit(pid, score, SOURCE) for pid, score in found if pid in visible]
        # Fewer than asked although the index had more: hidden or deleted papers took places; ask deeper.
        if len(hits) >= limit or len(found) < k or k >= 10_000:
            return hits[:limit]
        k *= 4


def _visible(ids: list[int], using: str = "default") -> set[int]:
    """Which of these papers exist and are not hidden (one raw statement: no ORM compilation per query)."""
    if not ids:
        return set()
    conn = connections[using]
    if conn.vendor == "sqlite":
        where, param = "id IN (SELECT value FROM json_each(%s))", json.dumps([int(i) for i in ids])
    else:
        where, param = "id = ANY(%s)", [int(i) for i in ids]
    with conn.cursor() as cur:
        cur.execute(f"SELECT id FROM papers_paper WHERE {where} AND NOT hidden", [param])
        return {int(row[0]) for row in cur.fetchall()}


def search(text: str, limit: int = 20, using: str = "default") -> list[Hit]:
    """Papers whose title and abstract mean what `text` means. [] when nothing is embedded yet, or when
    PAPERBOARD_SEMANTIC_LIVE_EMBED is off (queries are embedded in the serving process)."""
    if limit <= 0 or not ready(using):
        return []
    vec = query_vector(text)
    return search_vector(vec, limit, using=using) if vec is not None else []


def prefetch(text: str, limit: int, using: str = "default"):
    """A function for a worker thread that embeds `text` and, on the in-process index, also finds its
    `limit + 10` nearest (pure numpy over mapped files: no database work off the request's thread). It
    returns (vector, raw nearest or None) for `search_vector(vector, limit, first=raw)`. Call it on the
    request's thread: it brings the index up to date there first."""
    index = None
    if backend(using) == "numpy":
        index = inprocess.in_process_index(embed.model_key(), using)
        index.sync()

    def work():
        vec = query_vector(text)  # a unit vector (embed.encode normalises)
        if vec is None or index is None:
            return vec, None
        return vec, index.nearest(vec, limit + 10, sync=False)

    return work


def ready(using: str = "default") -> bool:
    """Whether a query can be searched by meaning now: live embedding on and some papers embedded."""
    return bool(settings.PAPERBOARD_SEMANTIC_LIVE_EMBED) and store.has_embeddings(using=using)


def query_vector(text: str) -> np.ndarray | None:
    """The embedding of a query (None for an empty one). The last QUERY_CACHE queries are remembered:
    the search page asks again for the next page, and a query typed as you go is often sent again."""
    text = " ".join((text or "").split())
    return _query_vector(embed.model_key(), text) if text else None


QUERY_CACHE = 1024


@functools.lru_cache(maxsize=QUERY_CACHE)
def _query_vector(model_key: str, text: str) -> np.ndarray:
    vec = embed.encode_query(text)
    vec.setflags(write=False)
    return vec


def vectors_for(
    papers: Iterable[Paper], *, max_embed: int = MAX_LIVE_EMBEDS, using: str = "default"
) -> dict[int, np.ndarray]:
    """Stored vectors of `papers`; up to `max_embed` of those without one are embedded now and stored
    (only when PAPERBOARD_SEMANTIC_LIVE_EMBED is on and the corpus has embeddings at all)."""
    papers = list(papers)
    found = store.load([p.pk for p in papers], using=using)
    missing = [p for p in papers if p.pk not in found][: max(0, max_embed)]
    live = settings.PAPERBOARD_SEMANTIC_LIVE_EMBED
    if missing and live and store.has_embeddings(using=using):
        rows = _embed_papers([(p.pk, p.title, p.abstract, p.content_hash) for p in missing])
        store.write(rows, using=using)
        found.update({r.paper_id: r.vector for r in rows})
    return found


def _embed_papers(items: list[tuple[int, str, str, str]]) -> list[store.Row]:
    texts = [embed.paper_text(title, abstract) for _, title, abstract, _ in items]
    vecs = embed.encode(texts, batch_size=ENCODE_BATCH)
    return [
        store.Row(pid, paper_hash, embed.text_hash(text), vec)
        for (pid, _, _, paper_hash), text, vec in zip(items, texts, vecs)
    ]


# ---- The indexer ------------------------------------------------------------------------------------------


class SemanticIndexer:
    """Embeds papers whose embedding is missing or stale, in batches, each batch committed.

    Stale: embedded with another model or truncation, or the paper's `content_hash` changed since. A
    changed hash whose `title. abstract` is unchanged (new authors, stars, ...) costs no embedding: only the
    stored hash is updated. Hidden papers are skipped. Interrupt it at any time: the next run continues
    with what is still pending. After a run the in-process index files are brought up to date.
    """

    name = "semantic"

    def __init__(self, using: str = "default"):
        self.using = using

    def _pending_sql(self) -> str:
        return (
            "FROM papers_paper p LEFT JOIN search_embedding e ON e.paper_id = p.id "
            "WHERE p.hidden = %s AND (e.paper_id IS NULL OR e.model <> %s OR e.paper_hash <> p.content_hash)"
        )

    def pending(self) -> int:
        with connections[self.using].cursor() as cur:
            cur.execute(f"SELECT COUNT(*) {self._pending_sql()}", [False, embed.model_key()])
            return int(cur.fetchone()[0])

    def _next_batch(self, after: int, size: int) -> list[tuple]:
        with connections[self.using].cursor() as cur:
            cur.execute(
                f"SELECT p.id, p.title, p.abstract, p.content_hash, e.text_hash, e.model {self._pending_sql()} "
                "AND p.id > %s ORDER BY p.id LIMIT %s",
                [False, embed.model_key(), after, size],
            )
            return cur.fetchall()

    def run(
        self,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
        *,
        limit: int | None = None,
        time_budget: float | None = None,
    ) -> int:
        """Index pending papers; returns how many were embedded or refreshed.

        `batch_size` papers (at most MAX_COMMIT_BATCH) are embedded, ENCODE_BATCH per forward pass, and
        committed together. `progress(done)` is called after each committed batch with the running total.
        `limit` stops after that many papers and `time_budget` after that many seconds (at a batch boundary).
        """
        batch_size = max(1, min(int(batch_size), MAX_COMMIT_BATCH))
        if connections[self.using].vendor == "postgresql":
            pgvector.ensure(self.using)
        model = embed.model_key()
        started = time.monotonic()
        done, after = 0, -1
        try:
            while limit is None or done < limit:
                if time_budget is not None and time.monotonic() - started > time_budget:
                    break
                size = batch_size if limit is None else min(batch_size, limit - done)
                rows = self._next_batch(after, size)
                if not rows:
                    break
                after = rows[-1][0]
                same, todo = [], []
                for pid, title, abstract, content_hash, old_text_hash, old_model in rows:
                    text = embed.paper_text(title, abstract)
                    if old_model == model and old_text_hash == embed.text_hash(text):
                        same.append((pid, content_hash))
                    else:
                        todo.append((pid, title, abstract, content_hash))
                store.touch(same, using=self.using)
                if todo:
                    store.write(_embed_papers(todo), model, using=self.using)
                done += len(rows)
                if progress:
                    progress(done)
        finally:
            if done:
                self.refresh_index()
        return done

    def refresh_index(self) -> None:
        """Write the in-process index files for what is in the table now (no-op on pgvector)."""
        if backend(self.using) == "numpy" and store.has_embeddings(using=self.using):
            inprocess.in_process_index(embed.model_key(), self.using).persist()

    def rebuild(self) -> None:
        """Drop every embedding: the next run() embeds every paper again."""
        store.delete_all(using=self.using)
