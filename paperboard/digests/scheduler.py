"""The scheduler inside `paperboard worker`: every `every` seconds it enqueues the digest run.

It runs on a thread beside the django-tasks database worker, in the same process. With the database
backend it enqueues a run only when none is waiting already, so a slow run never piles up others behind it
(several workers on several hosts each enqueue; whichever worker picks a run up does it, and `send_due`
is safe to run concurrently). With a backend that runs tasks at once it simply runs it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.db import close_old_connections, connections
from django.utils import timezone

from paperboard.digests.tasks import send_due_digests

log = logging.getLogger(__name__)

KEEP_RESULTS = dt.timedelta(days=1)  # finished digest-run results older than this are deleted


def _database_backend() -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(send_due_digests.get_backend(), DatabaseBackend)


def tick() -> bool:
    """Enqueue one digest run unless one is already waiting; returns True when it enqueued."""
    if _database_backend():
        from django_tasks_db.models import DBTaskResult

        runs = DBTaskResult.objects.filter(task_path=send_due_digests.module_path)
        runs.finished().filter(finished_at__lt=timezone.now() - KEEP_RESULTS).delete()
        if runs.ready().exists():
            return False
    send_due_digests.enqueue()
    return True


class Scheduler(threading.Thread):
    def __init__(self, every: float = 60.0):
        super().__init__(name="paperboard-scheduler", daemon=True)
        self.every = every
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    tick()
                except Exception:  # noqa: BLE001 - a database hiccup must not end the schedule
                    log.exception("scheduler: could not enqueue the digest run")
                self.stopping.wait(self.every)
        finally:
            connections.close_all()  # this thread's connections

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.join(timeout)
