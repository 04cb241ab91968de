"""`paperboard digest send`: send the email digests that are due, once, and exit (for cron and tests)."""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from paperboard.digests import sending


def _when(value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Email digests: `send` sends whatever is due, once, and prints what it did."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        send = sub.add_parser("send", help="send the digests that are due now, then exit")
        send.add_argument("--limit", type=int, default=None, help="send at most this many digests")
        send.add_argument("--processes", type=int, default=1,
                          help="send from this many processes at once (they claim disjoint digests)")
        send.add_argument("--now", type=_when, default=None, help="act as if it were this time (ISO 8601)")

    def handle(self, *args, action: str, **options):
        if action == "send":
            if options["limit"] is not None and options["limit"] < 1:
                raise CommandError("--limit must be at least 1")
            if options["processes"] < 1:
                raise CommandError("--processes must be at least 1")
            report = sending.send_due(now=options["now"], limit=options["limit"], processes=options["processes"])
            self.stdout.write(f"digests: {report}")
