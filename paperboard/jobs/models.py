"""One row per run of a scheduled job: which slot it is for, who runs it, until when, and how it ended."""

from __future__ import annotations

from django.db import models


class JobRun(models.Model):
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATUSES = [(s, s) for s in (QUEUED, RUNNING, DONE, FAILED)]

    job = models.CharField(max_length=40)
    due_at = models.DateTimeField(help_text="the start of the schedule slot this run is for")
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    token = models.CharField(max_length=32, help_text="changes on every take-over; only its holder may write")
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that holds the run")
    attempts = models.PositiveIntegerField(default=1, help_text="1, plus one per take-over of a dead worker's run")
    lease_until = models.DateTimeField(help_text="after this, another worker may take the run over")
    claimed_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "due_at"], name="one_run_per_job_slot")]
        indexes = [models.Index(fields=["job", "status", "lease_until"])]
        ordering = ["-due_at"]

    def __str__(self) -> str:
        return f"{self.job} {self.due_at:%Y-%m-%d %H:%M:%S} {self.status}"
