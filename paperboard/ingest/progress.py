"""A one-line progress bar on stderr for long imports (only on a terminal)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import BinaryIO

WIDTH = 28


class Progress:
    def __init__(self, path: Path, enabled: bool):
        self.path, self.enabled = path, enabled
        self.size = path.stat().st_size or 1
        self.raw: BinaryIO | None = None
        self.started = time.monotonic()
        self.last = 0.0

    def watch(self, raw: BinaryIO) -> None:
        """Remember the raw (compressed) file, whose position tells how far the import has got."""
        self.raw = raw

    def update(self, stats) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        try:
            done = min(1.0, self.raw.tell() / self.size) if self.raw and not self.raw.closed else 0.0
        except (OSError, ValueError):
            done = 0.0
        bar = "#" * int(done * WIDTH)
        rate = stats.seen / max(now - self.started, 1e-9)
        sys.stderr.write(
            f"\r{self.path.name[:30]:<30} [{bar:<{WIDTH}}] {done:4.0%} {stats.seen:>9,} records {rate:>8,.0f}/s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()
