"""The scheduler inside `paperboard worker`: every few seconds it claims the jobs that fell due and queues them.

It runs on a thread beside the django-tasks database worker, in the same process. Every worker on every host
runs one; claims (`runs.claim`) make sure each slot of each job is queued once, and that a run whose worker
died is queued again once its lease is over. With a task backend that runs tasks at once (tests, `manage.py
shell`), a queued run simply runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.db import close_old_connections, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from paperboard.jobs import runs
from paperboard.jobs.models import JobRun
from paperboard.jobs.schedule import SCHEDULE
from paperboard.jobs.tasks import run_job

log = logging.getLogger(__name__)

KEEP_TASK_RESULTS = dt.timedelta(days=1)  # finished task rows (django-tasks) older than this are deleted
KEEP_RUNS = dt.timedelta(days=30)  # job runs older than this are deleted (the last good ingest run stays)
TICK_SECONDS = 5.0  # how often the scheduler looks for due jobs (at most this late)


def intervals(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Each job's interval in seconds (0: off), from the settings, with `overrides` by job name."""
    return {job.name: job.every for job in SCHEDULE} | (overrides or {})


def tick(every: dict[str, float] | None = None, now: dt.datetime | None = None) -> list[str]:
    """Claim and queue every job due at `now`; returns the names queued (in schedule order)."""
    every = every or intervals()
    queued = []
    for job in SCHEDULE:
        if every.get(job.name, 0) <= 0:
            continue
        run = runs.claim(job.name, every[job.name], job.overlap, now)
        if run is not None:
            run_job.enqueue(job.name, run.pk, run.token)
            queued.append(job.name)
    return queued


def tidy(now: dt.datetime | None = None) -> None:
    """Delete finished task rows and old job runs."""
    now = now or timezone.now()
    DBTaskResult.objects.finished().filter(finished_at__lt=now - KEEP_TASK_RESULTS).delete()
    old = JobRun.objects.filter(due_at__lt=now - KEEP_RUNS).exclude(status__in=runs.LIVE)
    last_ingest = runs.last_good("ingest")  # the next ingest starts from it: keep it, however old
    old.exclude(pk=last_ingest.pk if last_ingest else None).delete()


class Scheduler(threading.Thread):
    def __init__(self, every: dict[str, float] | None = None):
        super().__init__(name="paperboard-scheduler", daemon=True)
        self.every = intervals(every)
        self.tick_seconds = min([TICK_SECONDS, *(s for s in self.every.values() if s > 0)])
        self.stopping = threading.Event()

    def run(self) -> None:
        ticks = 0
        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    tick(self.every)
                    if ticks % 720 == 0:  # about hourly
                        tidy()
                except Exception:  # noqa: BLE001 - a database hiccup must not end the schedule
                    log.exception("scheduler: could not queue the jobs that are due")
                ticks += 1
                self.stopping.wait(self.tick_seconds)
        finally:
            connections.close_all()  # this thread's connections

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.join(timeout)
