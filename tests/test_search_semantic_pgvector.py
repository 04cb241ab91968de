"""pgvector gives the same neighbours as the in-process index.

The database of the main test run (SQLite, or a PostgreSQL without the extension such as Debian 12's) has no
pgvector, so the outer test starts a private PostgreSQL 16 with pgvector 0.6 from the `pgserver` wheel in a
temporary folder and runs the inner test in a pytest subprocess pointed at it with PAPERBOARD_DATABASE_URL:
the inner test gets a real test database, migrated by our migrations (which enable pgvector there).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

INNER = os.environ.get("PB_TEST_PGVECTOR_INNER") == "1"
ROOT = Path(__file__).resolve().parent.parent


def _paperboard_url(uri: str, dbname: str) -> str:
    """pgserver's `postgresql://postgres:@/postgres?host=/tmp/x` as a PAPERBOARD_DATABASE_URL."""
    parts = urlsplit(uri)
    host = dict(parse_qsl(parts.query)).get("host", "")
    return f"postgres://{parts.username or 'postgres'}@/{dbname}?host={host}"


@pytest.mark.skipif(INNER, reason="the outer half runs in the main test process")
def test_pgvector_and_the_in_process_index_find_the_same_neighbours(tmp_path):
    pgserver = pytest.importorskip("pgserver", reason="pgserver (PostgreSQL + pgvector wheel) is not installed")
    short = Path(os.environ.get("TMPDIR", "/tmp")) / f"pbpg{os.getpid()}"  # unix socket paths must be short
    try:
        server = pgserver.get_server(str(short), cleanup_mode="delete")
        uri = server.get_uri()
    except Exception as exc:  # no shared memory, no permission to run postgres, ...
        pytest.skip(f"pgserver could not start PostgreSQL here: {exc!r}")
    try:
        env = {
            **os.environ,
            "PAPERBOARD_DATABASE_URL": _paperboard_url(uri, "postgres"),
            "PAPERBOARD_DATA_DIR": str(tmp_path / "data"),
            "PB_TEST_PGVECTOR_INNER": "1",
        }
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--create-db",
             f"tests/{Path(__file__).name}::test_inner_pgvector_matches_the_in_process_index"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output
        assert "1 passed" in proc.stdout, output
    finally:
        server.cleanup()


@pytest.mark.pgvector_inner  # deselected (not skipped) outside the pgserver subprocess: see conftest
@pytest.mark.django_db
def test_inner_pgvector_matches_the_in_process_index(settings):
    from django.db import connection

    from paperboard.papers.models import Paper
    from paperboard.search import semantic, similar
    from paperboard.search.semantic import pgvector, store
    from tests.conftest import make_paper

    assert connection.vendor == "postgresql"
    assert pgvector.enabled(), "the migration should have enabled pgvector on this server"
    assert pgvector.version(connection) >= (0, 5) and pgvector.has_hnsw(connection)

    # Three families of 20 papers around three query directions, at well separated similarities.
    rng = np.random.default_rng(11)
    dim = 384
    queries = np.eye(dim, dtype=np.float32)[:3]
    papers, vecs = [], []
    for f, q in enumerate(queries):
        for i in range(20):
            s = 0.95 - 0.02 * i
            u = rng.normal(size=dim).astype(np.float32)
            u -= (u @ q) * q
            u /= np.linalg.norm(u)
            vecs.append((s * q + np.sqrt(1 - s * s) * u).astype(np.float32))
            papers.append(make_paper(f"2501.{f * 100 + i:05d}", f"Family {f} paper {i}"))
    store.write([store.Row(p.pk, p.content_hash, "t", v) for p, v in zip(papers, vecs)])
    Paper.objects.filter(pk=papers[2].pk).update(hidden=True)

    with connection.cursor() as cur:  # the vector column holds exactly the stored bytes
        cur.execute("SELECT vec::text FROM search_embedding WHERE paper_id = %s", [papers[5].pk])
        stored = np.array([float(x) for x in cur.fetchone()[0].strip("[]").split(",")], dtype=np.float32)
    assert np.array_equal(stored, vecs[5])

    def both(fn):
        settings.PAPERBOARD_SEMANTIC_INDEX = "auto"
        assert semantic.backend() == "pgvector"
        a = fn()
        settings.PAPERBOARD_SEMANTIC_INDEX = "numpy"
        assert semantic.backend() == "numpy"
        b = fn()
        return a, b

    for f, q in enumerate(queries):
        a, b = both(lambda: semantic.search_vector(q, 10, exclude_ids={papers[f * 20].pk}))
        assert [h.paper_id for h in a] == [h.paper_id for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)
        expected = [p.pk for p in papers[f * 20 + 1 : f * 20 + 12] if p.pk != papers[2].pk][:10]
        assert [h.paper_id for h in a] == expected

    a, b = both(lambda: [(p.arxiv_id, p.similarity) for p in similar.similar_papers(papers[21], 5)])
    assert [x for x, _ in a] == [x for x, _ in b] and len(a) == 5
    assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=1e-5)

    # A row whose vector column is empty (pgvector installed after indexing) is filled by ensure().
    with connection.cursor() as cur:
        cur.execute("UPDATE search_embedding SET vec = NULL WHERE paper_id = %s", [papers[7].pk])
    assert pgvector.ensure()
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM search_embedding WHERE vec IS NULL")
        assert cur.fetchone()[0] == 0
