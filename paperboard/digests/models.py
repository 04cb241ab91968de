"""Email digests: who gets them (Subscription), each digest owed or sent (Delivery), and which papers
each subscriber has already had (SentPaper). How the three work together: `paperboard.digests.sending`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from paperboard.papers.models import Paper

FREQUENCIES = [
    ("weekdays", "Every weekday (Monday to Friday)"),
    ("daily", "Every day"),
    ("weekly", "Once a week (Mondays)"),
]
DEFAULT_FREQUENCY = "weekdays"


class SubscriptionQuerySet(models.QuerySet):
    def active(self):
        """Confirmed, not unsubscribed, not suppressed (paused ones included)."""
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True, suppressed_at__isnull=True)

    def due(self, now):
        return self.active().filter(paused=False, next_due_at__lte=now)


class Subscription(models.Model):
    """One address that asked for digests (double opt-in: nothing is sent before `confirmed_at`)."""

    email = models.EmailField(max_length=254, unique=True, help_text="stored in lower case")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="digest_subscription", help_text="the account whose confirmed address this is, if any",
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    frequency = models.CharField(max_length=10, choices=FREQUENCIES, default=DEFAULT_FREQUENCY)
    preferences = models.JSONField(default=dict, blank=True, help_text="see paperboard.digests.preferences")
    paused = models.BooleanField(default=False)
    next_due_at = models.DateTimeField(
        null=True, blank=True, help_text="when the next digest falls due; empty while nothing is owed"
    )
    last_sent_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="permanent delivery failures in a row")
    suppressed_at = models.DateTimeField(null=True, blank=True, help_text="set after too many permanent failures")
    suppression_reason = models.TextField(blank=True, default="")

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["next_due_at"], name="digest_due_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def active(self) -> bool:
        return self.confirmed and self.unsubscribed_at is None and self.suppressed_at is None


class Delivery(models.Model):
    """The digest one subscriber is owed for one period: created before anything is sent, at most one per
    (subscription, period_key), so a second run or a restart finds it instead of sending another."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"  # owed; sent by the next run at or after retry_at
        SENDING = "sending", "sending"  # a run holds it until lease_until
        SENT = "sent", "sent"  # the mail server accepted it
        FAILED = "failed", "failed"  # refused for good, or transient failures until MAX_ATTEMPTS
        SKIPPED = "skipped", "skipped"  # nothing new, unsubscribed or paused meanwhile, superseded
        UNKNOWN = "unknown", "unknown"  # a run died after handing it to the server: maybe delivered, not resent

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    period_key = models.CharField(max_length=20, help_text="2026-11-26 (daily, weekdays) or 2026-W48 (weekly)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    retry_at = models.DateTimeField(default=timezone.now, help_text="pending: not sent before this")
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="sending: held by a run until then")
    handed_over_at = models.DateTimeField(
        null=True, blank=True, help_text="when the message went to the mail server (SMTP DATA)"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    papers_count = models.PositiveSmallIntegerField(default=0)
    smtp_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period_key"], name="digest_one_per_period"),
        ]
        indexes = [models.Index(fields=["status", "retry_at"], name="digest_delivery_queue_idx")]

    def __str__(self) -> str:
        return f"{self.period_key} to {self.subscription_id}: {self.status}"


class SentPaper(models.Model):
    """A paper in a subscriber's digest. Unique per subscriber: a paper is never sent to them twice.

    Rows are written when a digest is put together (before it goes out) and removed again only when that
    digest fails for good; `position` and `section` keep the digest's order for a retry."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="sent_papers")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="papers")
    section = models.CharField(max_length=20)
    position = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "paper"], name="digest_paper_once")]

    def __str__(self) -> str:
        return f"paper {self.paper_id} to {self.subscription_id}"
