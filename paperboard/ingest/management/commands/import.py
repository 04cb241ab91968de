"""`paperboard import PATH [PATH ...]`: bulk-import papers from files; the format is detected per file."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from paperboard.ingest import formats, store
from paperboard.ingest.progress import Progress
from paperboard.papers.signals import import_notes

SHOWN_REJECTIONS = 50


class Command(BaseCommand):
    help = (
        "Import papers from files: arXiv bulk-metadata JSONL, corpus JSONL, arXiv API Atom, OAI-PMH "
        "ListRecords (arXiv / arXivRaw) or Hugging Face daily-papers JSON; plain or gzipped. "
        "Upserts by arXiv id; malformed records are reported and skipped. Exits non-zero when a file could "
        "not be read or imported nothing, and with --strict when any record was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files to import")
        parser.add_argument("--format", choices=formats.FORMATS, help="skip detection and read every file as this")
        parser.add_argument("--batch-size", type=int, default=store.BATCH_SIZE, help="records per transaction")
        parser.add_argument("--rejects", metavar="FILE", help="also write every rejected record's reason to FILE")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
        parser.add_argument(
            "--strict", action="store_true", help="exit non-zero if any record was rejected (the rest is still imported)"
        )

    def handle(self, *args, **opts):
        paths = [Path(p) for p in opts["paths"]]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        rejects_file = open(opts["rejects"], "w", encoding="utf-8") if opts["rejects"] else None  # noqa: SIM115
        shown = 0
        failed = []  # unreadable: missing, or of no known format
        empty = []  # read, but nothing in it could be imported
        total = store.ImportStats()
        started = time.monotonic()
        show_progress = sys.stderr.isatty() and not opts["no_progress"] and opts["verbosity"] > 0

        def on_reject(r):
            nonlocal shown
            if rejects_file:
                rejects_file.write(f"{r}\n")
            if shown < SHOWN_REJECTIONS:
                self.stderr.write(f"rejected: {r}")
            shown += 1

        run = store.Store()  # one import run for all files (one inline search-index budget)
        try:
            for path in paths:
                progress = Progress(path, enabled=show_progress)
                try:
                    records = formats.parse_file(path, opts["format"], on_open=progress.watch)
                    stats = store.import_records(
                        records, batch_size=opts["batch_size"], on_reject=on_reject, on_batch=progress.update,
                        store=run,
                    )
                except formats.UnknownFormat as exc:
                    failed.append(path)
                    self.stderr.write(f"{path}: {exc}")
                    continue
                finally:
                    progress.close()
                total.add(stats)
                if stats.rejected and stats.seen == stats.rejected:
                    empty.append(path)  # every record rejected, or the file unreadable from the start
                if opts["verbosity"] > 0:
                    self.stdout.write(f"{path.name}: {stats.summary()}")
        finally:
            if rejects_file:
                rejects_file.close()
        elapsed = time.monotonic() - started
        if shown > SHOWN_REJECTIONS:
            self.stderr.write(f"... and {shown - SHOWN_REJECTIONS} more rejected records (use --rejects FILE)")
        rate = total.seen / elapsed if elapsed else 0
        self.stdout.write(f"total: {total.summary()} in {elapsed:.1f}s ({rate:,.0f} records/s)")
        if total.new or total.updated:
            for line in import_notes(sender=Command):  # e.g. papers still waiting for `paperboard index`
                self.stdout.write(line)
        problems = []
        if failed:
            problems.append(f"{len(failed)} file(s) could not be read: {', '.join(map(str, failed))}")
        if empty:
            problems.append(f"nothing could be imported from {len(empty)} file(s): {', '.join(map(str, empty))}")
        if opts["strict"] and total.rejected:
            problems.append(f"--strict: {total.rejected:,} record(s) rejected")
        if problems:
            raise CommandError("; ".join(problems))
