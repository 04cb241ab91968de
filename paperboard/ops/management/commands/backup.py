"""`paperboard backup PATH`: the whole database in one file (see paperboard/ops/backup.py)."""

from django.core.management.base import BaseCommand, CommandError

from paperboard.ops import backup


class Command(BaseCommand):
    help = "Write the whole database to PATH: SQLite's online backup (safe while serving) or pg_dump."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **opts):
        try:
            size = backup.backup(opts["path"])
        except (backup.BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"backup written to {opts['path']} ({size / 2**20:.1f} MiB)")
