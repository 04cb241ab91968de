"""Background tasks (django-tasks, DEP 14): run by `paperboard worker`, enqueued by its scheduler."""

from __future__ import annotations

import logging

from django_tasks import task

from paperboard.digests import sending

log = logging.getLogger(__name__)


@task()
def send_due_digests() -> dict:
    """Send every digest that is due; returns the run's counts (kept with the task result)."""
    report = sending.send_due()
    if report.sent or report.failed or report.retrying or report.unknown or report.recovered:
        log.info("digests: %s", report)
    return report.as_dict()
