"""`paperboard demo`: migrate, load the bundled demo papers and community, then serve (what `make demo` runs)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from paperboard import conf, secretkey
from paperboard.demo.community import seed_community
from paperboard.ingest import formats, store
from paperboard.mail import outbox

DATA = Path(__file__).resolve().parents[2] / "data" / "papers.jsonl.gz"


def seed_ids() -> frozenset[str]:
    """The arXiv ids of the papers on the seed page (marked `seed_rank` in the bundled file)."""
    with gzip.open(DATA, "rt", encoding="utf-8") as fh:
        return frozenset(row["id"] for row in map(json.loads, fh) if row.get("seed_rank"))


class Command(BaseCommand):
    help = "Set up a demo instance: migrate, import the bundled papers, create a demo community, serve."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="set up the data, then exit")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, **opts):
        if not conf.get("SECRET_KEY").strip():
            # No key configured: the demo makes one, once, and keeps it in the data dir, where the settings of
            # every later command (`serve`, `worker`) find it.
            settings.SECRET_KEY = secretkey.stored_or_created(settings.DATA_DIR)
            self.stdout.write(f"secret key: {settings.DATA_DIR / secretkey.FILE_NAME}")
        call_command("migrate", interactive=False, verbosity=0)
        stats = store.import_records(formats.parse_file(DATA))
        self.stdout.write(f"demo papers: {stats.summary()}")
        created = seed_community(timezone.localdate(), seed_ids=seed_ids())
        if created:
            self.stdout.write(
                f"demo community: {created.users} users, {created.submissions} papers on the feed, {created.votes} votes"
            )
        else:
            self.stdout.write("demo community: already present")
        if outbox.folder() is not None:
            self.stdout.write(f"mail (confirmations, digests) goes to {outbox.folder()}: read it at /digest/outbox "
                              "as an admin (`paperboard createsuperuser`); `paperboard digest send` sends what is due")
        if not opts["no_serve"]:
            call_command("serve", host=opts["host"], port=opts["port"], workers=opts["workers"])
