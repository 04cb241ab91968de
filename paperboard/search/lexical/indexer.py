"""Keeping the keyword index in step with the papers: inline as papers are written (`sync`), and
`paperboard index` (`LexicalIndexer`: pending / run / rebuild)."""

from __future__ import annotations

import weakref
from collections.abc import Callable

from django.db import connection, transaction

from paperboard.search.lexical import postings
from paperboard.search.lexical.common import DOC, FTS, PG_CONFIG, P, id_param, ids_sql, vendor
from paperboard.search.lexical.fts5 import SQLITE_FTS_DDL

# An import run (one `Store`) indexes its first INLINE_SYNC_LIMIT new papers in the same transaction
# that writes them; beyond that, new papers are left pending for `paperboard index`, so a bulk import
# keeps its speed (tokenising ~1.5 kB of text per paper costs about as much as the import itself).
# Papers already in the index whose text changed are always re-indexed at once, so search never
# shows stale text. Small imports, harvests, submissions and the demo data are indexed at once.
INLINE_SYNC_LIMIT = 4000  # > the 3,092 papers of the demo data, which are indexed at once


_inline_used: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def index_papers(cur, ids: list[int]) -> None:
    """(Re-)index these papers from papers_paper / papers_paperauthor: a fixed number of statements."""
    if not ids:
        return
    param = id_param(ids)
    if vendor() == "sqlite":
        cur.execute(f"DELETE FROM {FTS} WHERE {ids_sql('rowid')}", [param])
        cur.execute(
            f"INSERT INTO {FTS} (rowid, title, authors, abstract) "
            "SELECT p.id, p.title, coalesce((SELECT group_concat(name, ', ') FROM "
            "(SELECT a.name FROM papers_paperauthor a WHERE a.paper_id = p.id ORDER BY a.position)), ''), "
            f"p.abstract FROM {P} p WHERE {ids_sql('p.id')}",
            [param],
        )
        cur.execute(
            f"INSERT INTO {DOC} (paper_id, content_hash, modified) "
            f"SELECT p.id, p.content_hash, p.modified FROM {P} p WHERE {ids_sql('p.id')} "
            "ON CONFLICT (paper_id) DO UPDATE SET content_hash = excluded.content_hash, modified = excluded.modified",
            [param],
        )
        postings.record(cur, param)  # the compact postings learn of it (postings.py)
    else:
        cur.execute(
            f"INSERT INTO {DOC} (paper_id, content_hash, modified, document) "
            f"SELECT p.id, p.content_hash, p.modified, "
            f"setweight(to_tsvector('{PG_CONFIG}', p.title), 'A') || "
            f"setweight(to_tsvector('{PG_CONFIG}', coalesce(a.names, '')), 'B') || "
            f"setweight(to_tsvector('{PG_CONFIG}', p.abstract), 'C') "
            f"FROM {P} p LEFT JOIN LATERAL (SELECT string_agg(x.name, ', ' ORDER BY x.position) AS names "
            "FROM papers_paperauthor x WHERE x.paper_id = p.id) a ON true "
            f"WHERE {ids_sql('p.id')} "
            "ON CONFLICT (paper_id) DO UPDATE SET content_hash = EXCLUDED.content_hash, "
            "modified = EXCLUDED.modified, document = EXCLUDED.document",
            [param],
        )


def sync(cur, paper_ids: list[int], run: object | None = None) -> None:
    """Bring the index in step with papers just inserted or changed, inside the caller's transaction.

    `run` is the import run (the `Store`): within one run the first INLINE_SYNC_LIMIT papers are indexed
    here; after that only papers that are already in the index (their text changed) are, and new ones
    stay pending for `paperboard index`. Without `run`, everything is indexed now.
    """
    if not paper_ids:
        return
    ids = list(paper_ids)
    if run is not None:
        used = _inline_used.get(run, 0)
        room = max(0, INLINE_SYNC_LIMIT - used)
        now, later = ids[:room], ids[room:]
        _inline_used[run] = used + len(now)
        if later:  # over the budget: refresh only papers that are in the index already
            cur.execute(f"SELECT paper_id FROM {DOC} WHERE {ids_sql('paper_id')}", [id_param(later)])
            indexed = {row[0] for row in cur.fetchall()}
            now += [i for i in later if i in indexed]
        ids = now
    index_papers(cur, ids)


def _pending_sql(limit: bool) -> str:
    stale = "d.paper_id IS NULL OR d.content_hash <> p.content_hash OR d.modified <> p.modified"
    sql = f"SELECT p.id FROM {P} p LEFT JOIN {DOC} d ON d.paper_id = p.id WHERE ({stale})"
    if limit:
        sql += " AND p.id > %s ORDER BY p.id LIMIT %s"
    return sql


class LexicalIndexer:
    """`paperboard index` for the lexical index. Resumable: each batch commits with its bookkeeping rows,
    so a run that stops (Ctrl-C, a crash) resumes with the papers still pending."""

    name = "lexical"

    def pending(self) -> int:
        """Papers to (re)index; when there are none, the papers the compact postings (SQLite) are behind
        by, if `run` would rebuild them (see postings.stale)."""
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM ({_pending_sql(False)}) x")
            return int(cur.fetchone()[0]) or postings.stale()

    def run(self, batch_size: int = 1000, progress: Callable[[int], None] | None = None) -> int:
        """Index every pending paper, `batch_size` per transaction; `progress(n)` after each batch with the
        number indexed so far in this run. Returns how many were indexed."""
        batch_size = max(1, int(batch_size))
        self.remove_orphans()
        done, last = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(_pending_sql(True), [last, batch_size])
                ids = [row[0] for row in cur.fetchall()]
                if not ids:
                    break
                index_papers(cur, ids)
            done += len(ids)
            last = ids[-1]
            if progress is not None:
                progress(done)
        if done >= 10_000:
            self.optimize()
        if postings.stale():  # missing, or over REBUILD_AT papers behind: write them afresh (~20 s at 275k)
            written = postings.rebuild_files(tick=(lambda: progress(done)) if progress is not None else None)
            if not done and written:
                done = written["papers"]
                if progress is not None:
                    progress(done)
        else:
            postings.prune_log()
        return done

    def rebuild(self) -> None:
        """Empty the index; the next run() indexes every paper again."""
        with transaction.atomic(), connection.cursor() as cur:
            if vendor() == "sqlite":
                # Dropping is instant; deleting from FTS5 row by row re-reads every document.
                cur.execute(f"DROP TABLE IF EXISTS {FTS}")
                cur.execute(SQLITE_FTS_DDL)
                cur.execute(f"DELETE FROM {DOC}")
                postings.reset(cur)  # a new epoch: postings of the old index are never used again
            else:
                cur.execute(f"TRUNCATE {DOC}")

    def remove_orphans(self) -> int:
        """Drop index entries of papers that no longer exist."""
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {DOC} WHERE paper_id NOT IN (SELECT id FROM {P})")
            removed = cur.rowcount or 0
            if vendor() == "sqlite":
                cur.execute(f"SELECT rowid FROM {FTS} WHERE rowid NOT IN (SELECT paper_id FROM {DOC})")
                gone = [row[0] for row in cur.fetchall()]
                if gone:
                    cur.execute(f"DELETE FROM {FTS} WHERE {ids_sql('rowid')}", [id_param(gone)])
                    postings.record(cur, id_param(gone))
        return removed

    def optimize(self) -> None:
        """Merge the index's segments (SQLite) / refresh planner statistics (PostgreSQL) after a big run."""
        with connection.cursor() as cur:
            if vendor() == "sqlite":
                cur.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('optimize')")
            else:
                cur.execute(f"ANALYZE {DOC}")

    def indexed(self) -> int:
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {DOC} d JOIN {P} p ON p.id = d.paper_id")
            return int(cur.fetchone()[0])
