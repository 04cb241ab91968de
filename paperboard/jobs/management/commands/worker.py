"""`paperboard worker`: the background worker. One process runs the django-tasks database worker (the
queued tasks) and, on a thread beside it, the scheduler that claims and queues the recurring jobs
(`paperboard/jobs/schedule.py`). Run it on as many hosts as you like: each slot of each job runs once.
SIGTERM or Ctrl-C stops it cleanly: a task under way is finished first, then the process exits 0."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from paperboard import secretkey
from paperboard.digests import sending
from paperboard.jobs.scheduler import Scheduler
from paperboard.jobs.tasks import run_job


class DigestAwareWorker(Worker):
    """django-tasks-db's worker, which also asks a digest run under way to stop after its current mail."""

    def shutdown(self, signum, frame):
        sending.stopping.set()
        super().shutdown(signum, frame)


class Command(BaseCommand):
    help = "Run background tasks (django-tasks database queue) and the job schedule, in one process."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=None,
                            help="seconds between two digest runs (default: PAPERBOARD_DIGEST_EVERY)")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds between two looks at the queue when it is empty (default 1)")
        parser.add_argument("--no-schedule", action="store_true",
                            help="only run queued tasks; other workers queue the scheduled jobs")

    def handle(self, *args, every: float | None, interval: float, no_schedule: bool, verbosity: int, **options):
        secretkey.refuse_to_start()
        backend = run_job.get_backend()
        if not isinstance(backend, DatabaseBackend):
            raise CommandError("`paperboard worker` needs the database task backend (TASKS in settings)")
        if (every is not None and every <= 0) or interval < 0:
            raise CommandError("--every must be positive and --interval not negative")
        if verbosity:
            for name in ("paperboard", "django_tasks", "django_tasks_db"):
                logging.getLogger(name).setLevel(logging.INFO)
        worker = DigestAwareWorker(
            queue_names=sorted(backend.queues), interval=interval, batch=False, backend_name=backend.alias,
            startup_delay=False, max_tasks=None, worker_id=get_random_string(32), excluded_queue_names=[],
        )
        scheduler = None if no_schedule else Scheduler({"digests": every} if every else None)
        worker.configure_signals()  # SIGTERM/SIGINT: finish the task under way, then stop
        if scheduler is None:
            plan = "no schedule"
        else:
            plan = ", ".join(f"{name} every {s:g} s" for name, s in scheduler.every.items() if s > 0) or "every job off"
        self.stdout.write(f"worker: queues {', '.join(worker.queue_names)}; {plan}")
        self.stdout.flush()
        if scheduler is not None:
            scheduler.start()
        try:
            worker.run()
        except SystemExit as exc:  # the worker's signal handler exits from its sleep
            if exc.code not in (0, None):
                raise
        finally:
            if scheduler is not None:
                scheduler.stop()
            worker.reset_signals()
        self.stdout.write("worker: stopped")
