"""What the memory-mapped indexes (the keyword postings, the in-process vector index) share on disk."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path):
    """An exclusive lock on `path` (created if missing) across processes, held for the `with` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            import fcntl  # only where it exists (not on Windows)

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not on Linux
            pass
        yield
