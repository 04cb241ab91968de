"""Every recurring job, on one screen. `paperboard worker` runs them; each slot runs exactly once.

A job falls due at the start of each slot of `every` seconds (slots are counted from the Unix epoch, so
every worker on every host agrees on them). One worker claims the slot (`runs.claim`) and queues the run;
a worker that dies holding a run loses it when its lease ends, and another worker takes it over. Every job
body is idempotent and resumable: running a slot again after a crash finishes its work without doing any
of it twice.

`overlap`: whether the next slot may start while a run of the job is still under way (digest runs may: they
share out deliveries by compare-and-set; an ingest or an index run may not, one at a time is enough).
The intervals are settings (docs/settings.md); 0 turns a job off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from paperboard.jobs import work


@dataclass(frozen=True)
class Job:
    name: str
    every_setting: str  # the Django setting holding the interval in seconds
    body: Callable[[Callable[[], None]], dict]  # body(heartbeat) -> a small JSON-able report
    overlap: bool
    what: str

    @property
    def every(self) -> float:
        return float(getattr(settings, self.every_setting))


SCHEDULE: tuple[Job, ...] = (
    Job("digests", "PAPERBOARD_DIGEST_EVERY", work.send_digests, True,
        "send every email digest that is due (docs/digests.md)"),
    Job("ingest", "PAPERBOARD_INGEST_EVERY", work.ingest_arxiv, False,
        "harvest new papers of PAPERBOARD_INGEST_CATEGORIES from the arXiv API since the last good run"),
    Job("trending", "PAPERBOARD_TRENDING_EVERY", work.refresh_trending, False,
        "re-read Hugging Face's daily papers for each day of the trending window: upvotes, comments, stars"),
    Job("index", "PAPERBOARD_INDEX_EVERY", work.build_index, False,
        "index papers whose keyword or semantic index entry is missing or stale (as `paperboard index`)"),
)

BY_NAME = {job.name: job for job in SCHEDULE}
