"""`paperboard backup PATH` / `paperboard restore PATH`: the whole database in one file.

SQLite: SQLite's online backup API (page by page, consistent, safe while the site is serving) into a
plain SQLite file. PostgreSQL: `pg_dump --format=custom` and `pg_restore`. A backup file says what it
is by its first bytes, so restoring a PostgreSQL dump into SQLite (or the reverse) is a clear error.
Restore refuses an instance that already holds papers or accounts unless forced. The vector index files
and the outbox are not in the backup: the index is rebuilt from the database, the outbox is a log.

`digest()` fingerprints every table (row count and a hash of its rows in key order), to prove that a
restore gives back identical rows.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, with the reason."""


def _sqlite_path() -> str:
    return str(connection.settings_dict["NAME"])


def _pg_env() -> tuple[list[str], dict]:
    s = connection.settings_dict
    args = ["-h", s.get("HOST") or "localhost", "-p", str(s.get("PORT") or 5432), "-U", s.get("USER") or "postgres"]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    return args, env


def backup(path: Path) -> int:
    """Write the database to `path`; returns its size in bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        src = sqlite3.connect(_sqlite_path())
        dst = sqlite3.connect(str(path))
        try:
            src.backup(dst, pages=1024)
        finally:
            dst.close()
            src.close()
    elif connection.vendor == "postgresql":
        args, env = _pg_env()
        _run(["pg_dump", *args, "--format=custom", "--no-owner", "--file", str(path), connection.settings_dict["NAME"]], env)
    else:
        raise BackupError(f"no backup for {connection.vendor}")
    return path.stat().st_size


def kind_of(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Paperboard backup (neither a SQLite file nor a pg_dump archive)")


def is_empty() -> bool:
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cur:
        for table in ("papers_paper", "auth_user"):
            if table in tables:
                cur.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
                if cur.fetchone():
                    return False
    return True


def restore(path: Path, *, force: bool = False) -> None:
    """Replace this instance's database with the backup at `path`."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    kind = kind_of(path)
    if kind != connection.vendor:
        raise BackupError(f"{path} is a {kind} backup, but this instance runs on {connection.vendor}")
    if not force and not is_empty():
        raise BackupError("this instance already has papers or accounts: restore into an empty one, or pass --force")
    if kind == "sqlite":
        name = _sqlite_path()
        connection.close()
        src = sqlite3.connect(str(path))
        dst = sqlite3.connect(name)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        args, env = _pg_env()
        connection.close()
        _run(["pg_restore", *args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--dbname", connection.settings_dict["NAME"], str(path)], env)


def _run(cmd: list[str], env: dict) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=6 * 3600)
    except FileNotFoundError:
        raise BackupError(f"{cmd[0]} is not installed (Debian: postgresql-client)") from None
    if done.returncode:
        raise BackupError(f"{cmd[0]} failed: {done.stderr.strip()[-1000:]}")


def digest() -> dict[str, tuple[int, str]]:
    """{table: (rows, sha256 of its rows in primary-key order)} for every table of the database."""
    out = {}
    with connection.cursor() as cur:
        for table in sorted(connection.introspection.table_names()):
            if table.startswith("sqlite_") or "fts" in table:  # SQLite's own and FTS5's shadow tables
                continue
            q = connection.ops.quote_name(table)
            cur.execute(f"SELECT * FROM {q} ORDER BY 1")
            h = hashlib.sha256()
            n = 0
            for row in cur.fetchall():
                h.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode())
                n += 1
            out[table] = (n, h.hexdigest())
    return out
