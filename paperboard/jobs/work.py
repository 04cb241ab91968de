"""The bodies of the scheduled jobs (`schedule.SCHEDULE`). Each takes `heartbeat`, to call between steps
(it keeps the run's lease and raises `runs.LeaseLost` when another worker took the run over), and returns
a small JSON-able report kept on the run. Each is idempotent and resumable (see schedule.py)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from paperboard.digests import sending
from paperboard.ingest import harvest
from paperboard.jobs.runs import last_good
from paperboard.papers import ranking
from paperboard.search.indexing import load_indexers

Heartbeat = Callable[[], None]

INGEST_FIRST_DAYS = 2  # the first ingest run (no earlier good run) harvests this many days back
INGEST_OVERLAP_DAYS = 1  # later runs start this many days before the last good run's last day
INDEX_RUN_SECONDS = 240.0  # an index run stops after the batch that passes this; the next slot goes on


def send_digests(heartbeat: Heartbeat) -> dict:
    """Every digest that is due (deliveries are shared out by compare-and-set: runs may overlap)."""
    report = sending.send_due()
    return report.as_dict()


def ingest_arxiv(heartbeat: Heartbeat) -> dict:
    """Harvest PAPERBOARD_INGEST_CATEGORIES from the arXiv API, from a day before the last good run's last day
    (or INGEST_FIRST_DAYS back) to today. Every page is read (no stop at an unchanged page), so a run taken
    over after a crash re-reads what the dead worker imported (unchanged) and goes on to the pages it did not."""
    categories = settings.PAPERBOARD_INGEST_CATEGORIES
    if not categories:
        return {"skipped": "PAPERBOARD_INGEST_CATEGORIES is empty"}
    today = dt.datetime.now(dt.UTC).date()
    last = last_good("ingest")
    if last is not None and last.result.get("until"):
        since = dt.date.fromisoformat(last.result["until"]) - dt.timedelta(days=INGEST_OVERLAP_DAYS)
    else:
        since = today - dt.timedelta(days=INGEST_FIRST_DAYS)
    result = harvest.harvest_arxiv(
        categories, min(since, today), today, stop_when_unchanged=False, log=lambda _line: heartbeat()
    )
    stats = result.stats
    return {"since": str(min(since, today)), "until": str(today), "pages": result.pages,
            "new": stats.new, "updated": stats.updated, "unchanged": stats.unchanged, "rejected": stats.rejected,
            "stop": result.stop_reason}


def refresh_trending(heartbeat: Heartbeat) -> dict:
    """Re-read Hugging Face's daily papers for today and each day of the trending window, so the imported
    trending signals (upvotes, comment counts, GitHub stars) are current; cached pages follow at once."""
    url = settings.PAPERBOARD_HF_DAILY_PAPERS_URL
    if not url:
        return {"skipped": "PAPERBOARD_HF_DAILY_PAPERS_URL is empty"}
    today = timezone.localdate()
    days = [today - dt.timedelta(days=n) for n in range(ranking.TRENDING_WINDOW_DAYS + 1)]
    result = harvest.harvest_hf_daily(days, url, log=lambda _line: heartbeat())
    stats = result.stats
    return {"days": len(days), "papers": stats.seen, "new": stats.new, "updated": stats.updated,
            "feed_new": stats.submissions_new, "feed_updated": stats.submissions_updated,
            "rejected": stats.rejected}


class _OutOfTime(Exception):
    pass


def build_index(heartbeat: Heartbeat, budget: float | None = None, batch_size: int | None = None) -> dict:
    """Index what is pending, indexer by indexer (as `paperboard index`), for about INDEX_RUN_SECONDS."""
    deadline = time.monotonic() + (INDEX_RUN_SECONDS if budget is None else budget)
    indexers, missing = load_indexers()
    report: dict = {"unavailable": [path for path, _why in missing]} if missing else {}

    def progress(_done: int) -> None:
        heartbeat()
        if time.monotonic() > deadline:
            raise _OutOfTime

    for indexer in indexers:
        before = indexer.pending()
        if not before:
            report[indexer.name] = 0
            continue
        try:
            indexer.run(progress=progress, **({"batch_size": batch_size} if batch_size else {}))
        except _OutOfTime:
            pass
        left = indexer.pending()
        report[indexer.name] = before - left
        if left:
            report["more"] = True  # out of time: the next run goes on
            break
    return report
