"""Claiming, holding and ending a scheduled job's run, by compare-and-set on its `JobRun` row.

- `claim(job)`: the slot's run is created by an INSERT that the unique (job, due_at) constraint lets only one
  worker win; a run whose lease ran out (its worker died) is taken over by an UPDATE that matches the old
  token, so only one worker wins that too. Each claim or take-over gets a new token.
- `start` / `heartbeat` / `finish` / `fail` write only while the caller's token is the run's token: a worker
  that was taken over (it stalled past its lease) gets `LeaseLost` at its next heartbeat and stops.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import get_random_string

from paperboard.jobs.models import JobRun

LIVE = (JobRun.QUEUED, JobRun.RUNNING)
HEARTBEAT_EVERY = 0.2  # of the lease: a heartbeat writes at most this often (a fifth of the lease)


class LeaseLost(Exception):
    """Another worker took this run over; whoever holds the lease now finishes it."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _lease(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=settings.PAPERBOARD_JOB_LEASE_SECONDS)


def slot_start(now: dt.datetime, every: float) -> dt.datetime:
    """The start of the `every`-second slot holding `now`, counted from the Unix epoch (the same on every host)."""
    seconds = now.timestamp()
    return dt.datetime.fromtimestamp(seconds - seconds % every, tz=dt.UTC)


def claim(name: str, every: float, overlap: bool, now: dt.datetime | None = None) -> JobRun | None:
    """The run this worker must queue now: a dead worker's run taken over, or this slot's new run; else None."""
    now = now or timezone.now()
    runs = JobRun.objects.filter(job=name)
    stale = runs.filter(status__in=LIVE, lease_until__lt=now).order_by("due_at").first()
    if stale is not None:
        token = get_random_string(32)
        won = runs.filter(pk=stale.pk, token=stale.token, status__in=LIVE, lease_until__lt=now).update(
            token=token, worker=worker_name(), status=JobRun.QUEUED, attempts=F("attempts") + 1,
            lease_until=_lease(now), claimed_at=now,
        )
        return JobRun.objects.get(pk=stale.pk) if won else None
    if not overlap and runs.filter(status__in=LIVE).exists():
        return None
    due = slot_start(now, every)
    if runs.filter(due_at__gte=due).exists():
        return None  # this slot is taken (the INSERT below would say so too, at the cost of an error)
    try:
        with transaction.atomic():
            return JobRun.objects.create(
                job=name, due_at=due, token=get_random_string(32), worker=worker_name(),
                lease_until=_lease(now), claimed_at=now,
            )
    except IntegrityError:
        return None  # another worker won the slot


def last_good(job: str) -> JobRun | None:
    """The latest run of `job` that did its work (done, and not skipped for want of configuration)."""
    return JobRun.objects.filter(job=job, status=JobRun.DONE).exclude(result__has_key="skipped").first()


class Holder:
    """This worker's hold on a run: starts it, keeps its lease alive and records how it ended."""

    def __init__(self, run_id: int, token: str):
        self.run_id, self.token = run_id, token
        self._last_beat = 0.0

    def _mine(self):
        return JobRun.objects.filter(pk=self.run_id, token=self.token)

    def start(self) -> bool:
        """Take the queued run; False when it was taken over or already ended (nothing to do)."""
        now = timezone.now()
        won = self._mine().filter(status=JobRun.QUEUED).update(
            status=JobRun.RUNNING, started_at=now, lease_until=_lease(now), worker=worker_name()
        )
        self._last_beat = time.monotonic()
        return bool(won)

    def heartbeat(self) -> None:
        """Extend the lease (at most every fifth of it); raises LeaseLost when the run is no longer ours."""
        if time.monotonic() - self._last_beat < HEARTBEAT_EVERY * settings.PAPERBOARD_JOB_LEASE_SECONDS:
            return
        if not self._mine().filter(status=JobRun.RUNNING).update(lease_until=_lease(timezone.now())):
            raise LeaseLost(f"run {self.run_id} was taken over by another worker")
        self._last_beat = time.monotonic()

    def finish(self, result: dict) -> bool:
        return bool(self._mine().filter(status=JobRun.RUNNING).update(
            status=JobRun.DONE, finished_at=timezone.now(), result=result
        ))

    def fail(self, error: str) -> bool:
        return bool(self._mine().filter(status=JobRun.RUNNING).update(
            status=JobRun.FAILED, finished_at=timezone.now(), error=error[:4000]
        ))
