"""The one background task the scheduler queues: run a claimed slot of a scheduled job (django-tasks)."""

from __future__ import annotations

import logging

from django_tasks import task

from paperboard.jobs import runs, schedule

log = logging.getLogger(__name__)


@task()
def run_job(name: str, run_id: int, token: str) -> dict:
    """Run the job `name` for its run `run_id`, if this token still holds it; returns the job's report."""
    job = schedule.BY_NAME[name]
    holder = runs.Holder(run_id, token)
    if not holder.start():
        return {"superseded": "taken over by another worker, or already ended"}
    try:
        result = job.body(holder.heartbeat)
    except runs.LeaseLost as exc:
        log.warning("job %s: %s", name, exc)
        return {"superseded": str(exc)}
    except Exception as exc:
        holder.fail(f"{exc.__class__.__name__}: {exc}")
        log.exception("job %s failed", name)
        raise
    holder.finish(result)
    if result:
        log.info("job %s: %s", name, result)
    return result
