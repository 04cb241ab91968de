"""`paperboard restore PATH`: replace an (empty) instance's database with a backup."""

from django.core.management.base import BaseCommand, CommandError

from paperboard.ops import backup


class Command(BaseCommand):
    help = "Restore a backup made by `paperboard backup` into this instance (empty unless --force)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--force", action="store_true", help="replace an instance that already has data")

    def handle(self, *args, **opts):
        try:
            backup.restore(opts["path"], force=opts["force"])
        except (backup.BackupError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored {opts['path']}; run `paperboard index` to rebuild the vector index files")
