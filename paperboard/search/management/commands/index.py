"""`paperboard index`: build or catch up the search indexes (lexical, semantic, ...) in resumable batches.

Each indexer of `paperboard.search.indexing.INDEXERS` runs in turn; one whose module (or an optional
dependency of it) cannot be imported is reported and skipped. Every batch is committed, so Ctrl-C loses
at most the batch in flight: run the command again and it goes on with what is still pending.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from paperboard.search import indexing, semantic
from paperboard.search.semantic import offline

WIDTH = 28


def _guess_name(path: str) -> str:
    return path.partition(":")[0].rsplit(".", 1)[-1]


class Bar:
    """A one-line progress bar on stderr (only on a terminal), like the importer's."""

    def __init__(self, name: str, total: int, enabled: bool, stream):
        self.name, self.total, self.enabled, self.stream = name, total, enabled, stream
        self.closed = False
        self.started = time.monotonic()
        self.last = 0.0
        self.done = 0

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        frac = min(1.0, done / self.total) if self.total else 1.0
        rate = done / max(now - self.started, 1e-9)
        self.stream.write(
            f"\r{self.name:<10} [{'#' * int(frac * WIDTH):<{WIDTH}}] {frac:4.0%} {done:>9,} / {self.total:,} papers "
            f"{rate:>7,.0f}/s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.enabled and self.last:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = (
        "Build or catch up the search indexes (lexical full text, semantic embeddings), in batches that "
        "each commit: an interrupted run resumes where it stopped. Run it after a bulk `paperboard import`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--only", metavar="NAME", help="run only this indexer (lexical, semantic)")
        parser.add_argument("--rebuild", action="store_true", help="drop the index and index every paper again")
        parser.add_argument("--batch-size", type=int, default=1000, help="papers per transaction (default 1000)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
        parser.add_argument(
            "--export-texts",
            metavar="FILE",
            help="write the texts still to embed (.jsonl, .gz or .xz) for tools/embed_offline.py, and stop",
        )
        parser.add_argument("--all", action="store_true", help="with --export-texts: every visible paper")
        parser.add_argument(
            "--import-vectors",
            metavar="FILE",
            nargs="+",
            help="store vectors made by tools/embed_offline.py (checked against each paper's text), and stop",
        )

    def handle(self, *args, **opts):
        if opts["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if opts["export_texts"] or opts["import_vectors"]:
            return self.offline(opts)
        only = opts["only"]
        paths = list(indexing.INDEXERS)
        if only:
            paths = [p for p in paths if _guess_name(p) == only]
            if not paths:
                names = ", ".join(_guess_name(p) for p in indexing.INDEXERS)
                raise CommandError(f"no indexer named {only!r} (there are: {names})")
        indexers, failed = indexing.load_indexers(paths)
        for path, why in failed:
            self.stderr.write(f"{_guess_name(path)}: skipped, cannot load {path} ({why})")
        show = sys.stderr.isatty() and not opts["no_progress"] and opts["verbosity"] > 0
        total = 0
        for indexer in indexers:
            name = getattr(indexer, "name", type(indexer).__name__)
            if opts["rebuild"]:
                indexer.rebuild()
                self.stdout.write(f"{name}: index dropped, rebuilding")
            pending = indexer.pending()
            if pending == 0:
                if opts["verbosity"] > 0:
                    self.stdout.write(f"{name}: up to date")
                continue
            bar = Bar(name, pending, show, sys.stderr)
            started = time.monotonic()
            try:
                done = indexer.run(batch_size=opts["batch_size"], progress=bar.update)
            except KeyboardInterrupt:
                bar.close()
                self.stderr.write(
                    f"{name}: interrupted after {bar.done:,} papers (committed); run `paperboard index` again to resume"
                )
                raise SystemExit(130) from None
            finally:
                bar.close()
            elapsed = time.monotonic() - started
            total += done
            rate = done / elapsed if elapsed else 0.0
            if opts["verbosity"] > 0:
                self.stdout.write(f"{name}: indexed {done:,} papers in {elapsed:.1f}s ({rate:,.0f}/s)")
        if failed and not indexers:
            raise CommandError("no indexer could be loaded")
        return None

    def offline(self, opts) -> None:
        """--export-texts / --import-vectors: the semantic index computed on another machine."""
        started = time.monotonic()
        if opts["export_texts"]:
            count = offline.export_texts(opts["export_texts"], pending_only=not opts["all"])
            self.stdout.write(
                f"semantic: wrote {count:,} texts to {opts['export_texts']} in {time.monotonic() - started:.1f}s; "
                f"embed them with tools/embed_offline.py, then run `paperboard index --import-vectors FILE`"
            )
            return
        show = sys.stderr.isatty() and not opts["no_progress"] and opts["verbosity"] > 0
        totals = offline.ImportReport()
        for path in opts["import_vectors"]:
            try:
                with np.load(path, allow_pickle=False) as data:
                    count = len(data["ids"])
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"{path}: not a vectors file ({exc})") from None
            bar = Bar("semantic", count, show, sys.stderr)
            try:
                report = offline.import_vectors(path, progress=bar.update)
            except offline.OfflineError as exc:
                raise CommandError(str(exc)) from None
            finally:
                bar.close()
            for field in ("stored", "unchanged", "stale", "missing", "bad"):
                setattr(totals, field, getattr(totals, field) + getattr(report, field))
        semantic.SemanticIndexer().refresh_index()
        self.stdout.write(
            f"semantic: imported {totals.stored:,} vectors in {time.monotonic() - started:.1f}s "
            f"({totals.unchanged:,} already stored, {totals.stale:,} skipped because the paper's text changed, "
            f"{totals.missing:,} for papers no longer here or hidden, {totals.bad:,} invalid); "
            "run `paperboard index` to embed whatever is still pending"
        )
