"""`paperboard copy-db --to URL`: move this instance's data to another database (see paperboard/ops/copydb.py)."""

import time

from django.core.management.base import BaseCommand, CommandError

from paperboard.ops import copydb


class Command(BaseCommand):
    help = "Copy every row of this instance's database into another (e.g. SQLite to PostgreSQL) and verify it."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, metavar="URL", help="target, e.g. postgres://user@host/dbname")

    def handle(self, *args, **opts):
        started = time.monotonic()

        def progress(table: str, rows: int) -> None:
            if opts["verbosity"] > 1:
                self.stdout.write(f"  {table}: {rows:,} rows")

        try:
            report = copydb.copy_to(opts["to"], progress=progress)
        except (copydb.CopyError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if report.mismatched:
            raise CommandError(f"copied, but these tables differ after the copy: {', '.join(report.mismatched)}")
        self.stdout.write(
            f"copied {report.rows:,} rows in {len(report.tables)} tables in {time.monotonic() - started:.1f}s; "
            "every table verified (row count and checksum)\n"
            f"next: PAPERBOARD_DATABASE_URL={opts['to']} paperboard index   (search indexes)"
        )
