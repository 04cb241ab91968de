"""What the memory-mapped indexes (the keyword postings in lexical/postings/, the in-process vector index in
semantic/inprocess.py) share: a folder of files named by `manifest.json`, written under a lock and
published by replacing the manifest atomically, last; and one open index per process and key.

    with file_lock(folder / ".lock"): ...            one writer at a time, across processes
    read_manifest(folder, format=1, model=...)       the manifest, or None if missing, unreadable or not these
    publish(folder, m, token, keep=(...))            write the manifest, then drop the older files
    Registry()                                       .get(key, make) / .clear(): this process's open indexes

Readers map the files the manifest names; a process that mapped older files keeps its copy (the page cache
holds it) until it reopens, so dropping them under it is safe.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "manifest.json"


@contextmanager
def file_lock(path: Path):
    """An exclusive lock on `path` (created if missing) across processes, held for the `with` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            import fcntl  # lazy: only where it exists (not on Windows)

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not on Linux
            pass
        yield


def read_manifest(folder: Path, **expect) -> dict | None:
    """`folder`'s manifest, or None when it is missing, unreadable, or any `expect`ed key differs."""
    try:
        m = json.loads((folder / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return m if all(m.get(key) == value for key, value in expect.items()) else None


def publish(folder: Path, m: dict, token: str, *, patterns: Iterable[str], keep: Iterable[str | None]) -> None:
    """Replace `folder`'s manifest with `m` atomically, then drop what matches `patterns` (files or
    folders) other than the names in `keep`."""
    tmp = folder / f".manifest-{token}.json"
    tmp.write_text(json.dumps(m, indent=1))
    os.replace(tmp, folder / MANIFEST)
    keep = set(keep)
    for pattern in patterns:
        for old in folder.glob(pattern):
            if old.name in keep:
                continue
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)


class Registry:
    """This process's open indexes, one per key (data dir, database, ...), made on first use."""

    def __init__(self):
        self._lock = threading.Lock()
        self._open: dict[tuple, object] = {}

    def get(self, key: tuple, make: Callable[[], object]):
        with self._lock:
            if key not in self._open:
                self._open[key] = make()
            return self._open[key]

    def clear(self) -> None:
        """Forget every open index (tests: behave like a freshly started process)."""
        with self._lock:
            self._open.clear()
