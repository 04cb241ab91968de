"""pgvector on PostgreSQL: store embeddings as `vector(384)` and search them in the database.

Used when the database is PostgreSQL *and* `CREATE EXTENSION IF NOT EXISTS vector` succeeds (the
extension package is installed on the server and our role may create it). Then `search_embedding` gets a
`vec vector(384)` column beside the portable `vector` bytes, and, with pgvector 0.5 or newer, an HNSW index
on cosine distance (`vector_cosine_ops`). Anything else (SQLite, PostgreSQL without the extension, as on
Debian 12's stock server) uses the in-process index of `inprocess.py`.

The column is added by the search migration when it can be, and again by `ensure()` (run by the semantic
indexer), which also fills it from the bytes: installing pgvector later needs no migration.
"""

from __future__ import annotations

import logging

import numpy as np
from django.db import DatabaseError, connections, transaction

logger = logging.getLogger("paperboard.search")

TABLE = "search_embedding"
COLUMN = "vec"
INDEX = "search_embedding_vec_hnsw"
DIM = 384

_enabled: dict[tuple[str, str], bool] = {}


def _key(conn) -> tuple[str, str]:
    return (conn.alias, str(conn.settings_dict.get("NAME")))


def version(conn) -> tuple[int, ...] | None:
    """Installed pgvector version as a tuple, or None."""
    if conn.vendor != "postgresql":
        return None
    with conn.cursor() as cur:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cur.fetchone()
    if not row:
        return None
    return tuple(int(x) for x in row[0].split(".") if x.isdigit())


def _column_exists(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND column_name = %s",
            [TABLE, COLUMN],
        )
        return cur.fetchone() is not None


def enabled(using: str = "default") -> bool:
    """Whether searches on this database go to pgvector (cached per process; `ensure()` refreshes it)."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return False
    key = _key(conn)
    if key not in _enabled:
        _enabled[key] = version(conn) is not None and _column_exists(conn)
    return _enabled[key]


def install(conn) -> bool:
    """Create the extension (when the server has it), the column and the index. True when pgvector is on.

    Never raises for a missing extension or a missing privilege: the caller falls back to the in-process
    index. Each step runs in a savepoint, so a refusal leaves the surrounding transaction usable, and a
    step already done is skipped (ALTER TABLE is refused while the transaction has pending FK checks).
    """
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cur.fetchone() is None:
            _enabled[_key(conn)] = False
            return False
    try:
        if version(conn) is None:
            with transaction.atomic(using=conn.alias), conn.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
        if not _column_exists(conn):
            with transaction.atomic(using=conn.alias), conn.cursor() as cur:
                cur.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {COLUMN} vector({DIM})")
    except DatabaseError as exc:  # e.g. permission denied to create extension "vector"
        logger.warning("pgvector is on the server but could not be enabled (%s); using the in-process index", exc)
        _enabled[_key(conn)] = False
        return False
    if (version(conn) or (0,)) >= (0, 5) and not has_hnsw(conn):
        try:
            with transaction.atomic(using=conn.alias), conn.cursor() as cur:
                cur.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} USING hnsw ({COLUMN} vector_cosine_ops)")
        except DatabaseError as exc:  # searches stay exact (a sequential scan) without it
            logger.warning("could not create the HNSW index on %s.%s: %s", TABLE, COLUMN, exc)
    _enabled[_key(conn)] = True
    return True


def has_hnsw(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexname = %s", [TABLE, INDEX])
        return cur.fetchone() is not None


def ensure(using: str = "default", batch: int = 1000) -> bool:
    """Install pgvector if possible and fill `vec` for rows that only have bytes. True when pgvector is on."""
    conn = connections[using]
    _enabled.pop(_key(conn), None)
    if not install(conn):
        return False
    while True:
        with transaction.atomic(using=using), conn.cursor() as cur:
            cur.execute(f"SELECT paper_id, vector FROM {TABLE} WHERE {COLUMN} IS NULL LIMIT %s", [batch])
            rows = cur.fetchall()
            if not rows:
                return True
            cur.executemany(
                f"UPDATE {TABLE} SET {COLUMN} = %s::vector WHERE paper_id = %s",
                [(literal(np.frombuffer(bytes(v), dtype="<f4")), pid) for pid, v in rows],
            )


def literal(vec) -> str:
    """pgvector's text form. `repr` of each float32 (as a double) parses back to the same float32."""
    return "[" + ",".join(map(repr, np.asarray(vec, dtype=np.float32).tolist())) + "]"


def nearest(query, k: int, model: str, exclude_ids=(), using: str = "default") -> list[tuple[int, float]]:
    """The `k` stored vectors nearest to `query` by cosine distance: [(paper_id, cosine similarity)].

    With the HNSW index this is approximate; `hnsw.ef_search` is raised to `k` (up to 1000) so a scan can
    return `k` rows. Rows filtered out after the index scan (other models, `exclude_ids`) can make the
    answer shorter than `k`: callers ask again with a larger `k` (see `semantic.search_vector`).
    """
    conn = connections[using]
    q = literal(query)
    exclude = [int(x) for x in exclude_ids]
    where = f"model = %s AND {COLUMN} IS NOT NULL"
    params: list = [q, model]
    if exclude:
        where += " AND NOT (paper_id = ANY(%s))"
        params.append(exclude)
    sql = (
        f"SELECT paper_id, 1 - ({COLUMN} <=> %s::vector) FROM {TABLE} WHERE {where} "
        f"ORDER BY {COLUMN} <=> %s::vector LIMIT %s"
    )
    with transaction.atomic(using=using), conn.cursor() as cur:
        cur.execute(f"SET LOCAL hnsw.ef_search = {max(40, min(1000, int(k)))}")
        cur.execute(sql, [*params, q, int(k)])
        return [(int(pid), float(score)) for pid, score in cur.fetchall()]
