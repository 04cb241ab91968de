"""`paperboard ingest arxiv`: harvest recent papers from the arXiv API into the database."""

from __future__ import annotations

import argparse
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from paperboard.ingest import harvest


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


class Command(BaseCommand):
    help = "Harvest papers from a live source into the database (sources: arxiv)."

    def add_arguments(self, parser) -> None:
        sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE", title="sources")
        arxiv = sources.add_parser(
            "arxiv",
            help="harvest the arXiv API by category and submission date",
            description=(
                "Harvest papers submitted to arXiv in the given categories between --since and --until "
                "(UTC days, inclusive), newest first, from PAPERBOARD_ARXIV_API_URL, waiting "
                "PAPERBOARD_ARXIV_DELAY seconds (at least 3 for arxiv.org) between requests. Stops at a page "
                "that brings nothing new, at an empty page, when all results are in, or at --max-results."
            ),
        )
        arxiv.add_argument(
            "--category",
            dest="categories",
            action="append",
            required=True,
            metavar="CAT",
            help="arXiv category such as cs.LG; repeat for several (they are OR-ed)",
        )
        arxiv.add_argument(
            "--since", type=_day, required=True, metavar="YYYY-MM-DD", help="first submission day"
        )
        arxiv.add_argument(
            "--until",
            type=_day,
            default=None,
            metavar="YYYY-MM-DD",
            help="last submission day (default: today, UTC)",
        )
        arxiv.add_argument(
            "--page-size",
            type=_positive,
            default=100,
            metavar="N",
            help=f"results per request, at most {harvest.MAX_PAGE_SIZE} (default: 100)",
        )
        arxiv.add_argument(
            "--max-results",
            type=_positive,
            default=None,
            metavar="N",
            help="stop after N results (default: all)",
        )
        arxiv.add_argument(
            "--full",
            action="store_true",
            help="walk every page even when one brings nothing new (fills the gaps of an interrupted run)",
        )

    def handle(self, *args, **options) -> None:
        if options["source"] == "arxiv":
            self._arxiv(options)
        else:  # pragma: no cover - argparse refuses unknown sources
            raise CommandError(f"unknown source {options['source']!r}")

    def _arxiv(self, options: dict) -> None:
        def reject(item) -> None:
            self.stderr.write(f"rejected: {item}")

        client = harvest.ArxivClient()
        self.stdout.write(
            f"Harvesting {settings.PAPERBOARD_ARXIV_API_URL} ({client.delay:g} s between requests)"
        )
        try:
            result = harvest.harvest_arxiv(
                options["categories"],
                options["since"],
                options["until"],
                page_size=options["page_size"],
                max_results=options["max_results"],
                stop_when_unchanged=not options["full"],
                client=client,
                log=self.stdout.write,
                on_reject=reject,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except harvest.HarvestError as exc:
            if exc.partial is not None and exc.partial.stats.seen:
                self.stdout.write(f"Imported before the error (kept): {exc.partial.stats.summary()}")
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Stopped: {result.stop_reason} ({result.pages} page(s), {result.requests} request(s))."
        )
        self.stdout.write(self.style.SUCCESS(f"Imported: {result.stats.summary()}"))
