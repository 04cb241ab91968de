"""What `paperboard check` says about the scheduled jobs: their settings, whether a worker is claiming them,
and which job's latest run failed. Each entry is (level, what, detail), level OK, WARN or ERROR."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from paperboard.ingest import clean
from paperboard.jobs.models import JobRun
from paperboard.jobs.schedule import SCHEDULE

QUIET_SLOTS = 3  # no claim for this many of the shortest interval (and at least 5 minutes): no worker is running


def configuration() -> list[tuple[str, str, str]]:
    bad = [c for c in settings.PAPERBOARD_INGEST_CATEGORIES if not clean.CATEGORY_RE.match(c)]
    if bad:
        return [("ERROR", "ingest categories", f"PAPERBOARD_INGEST_CATEGORIES has what is not an arXiv category: "
                 f"{', '.join(bad)}")]
    on = [job.name for job in SCHEDULE if job.every > 0]
    return [("OK", "scheduled jobs", ", ".join(on) if on else "every job is off")]


def workers(now: dt.datetime | None = None) -> list[tuple[str, str, str]]:
    now = now or timezone.now()
    intervals = [job.every for job in SCHEDULE if job.every > 0]
    if not intervals:
        return []
    out = []
    last = JobRun.objects.aggregate(at=Max("claimed_at"))["at"]
    quiet = dt.timedelta(seconds=max(300.0, QUIET_SLOTS * min(intervals)))
    if last is None:
        out.append(("WARN", "workers", "no scheduled job has run yet: start `paperboard worker`"))
    elif now - last > quiet:
        out.append(("WARN", "workers", f"no job claimed since {last:%Y-%m-%d %H:%M} UTC: is `paperboard worker` running?"))
    else:
        out.append(("OK", "workers", f"last job claimed {int((now - last).total_seconds())} s ago"))
    for job in SCHEDULE:
        latest = JobRun.objects.filter(job=job.name).exclude(status__in=(JobRun.QUEUED, JobRun.RUNNING)).first()
        if latest is not None and latest.status == JobRun.FAILED:
            out.append(("WARN", f"job {job.name}", f"its last run ({latest.due_at:%Y-%m-%d %H:%M} UTC) failed: "
                        f"{latest.error.splitlines()[0] if latest.error else 'no error recorded'}"))
    return out
