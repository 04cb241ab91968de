"""Sending digests: `send_due(now=None, limit=None) -> Report`, run every minute by `paperboard worker`
(or by `paperboard digest send` from cron). Safe to run in several processes at once and after a crash.

Three steps, each in chunks (memory stays flat in the number of subscribers):

1. recover: a delivery left `sending` by a run that died is taken back after its lease
   (PAPERBOARD_DIGEST_LEASE_SECONDS): to `pending` when its message had not reached the mail server yet,
   to `unknown` (never resent) when it had.
2. schedule: each due subscriber is claimed by compare-and-set on `next_due_at`
   (UPDATE … WHERE id = … AND next_due_at = <old>, only the claimer gets a row count of 1), and in the same
   transaction the claim moves `next_due_at` to the next send time and inserts the Delivery row for the
   period (unique per subscription and period). Either both happen or neither: a due digest is never
   dropped and never owed twice.
3. deliver: each pending delivery is claimed by compare-and-set on its status (pending -> sending, with a
   lease); its papers are chosen and recorded (SentPaper, unique per subscriber, so no paper goes to anyone
   twice), the message is rendered and handed to the mail server over one reused connection per chunk. The
   hand-over is recorded, under the same lease, after the server took the envelope and before DATA: a run
   that lost its lease calls the send off there. Then the delivery is marked `sent`.

Exactly once: the only window left is between the hand-over and `sent` (the server may have taken the
message, the run died before recording it). There we choose at-most-once: such a delivery becomes
`unknown` and is not resent (its papers stay recorded). See docs/digests.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from paperboard.digests import content, message, schedule, subscriptions
from paperboard.digests.models import Delivery, SentPaper, Subscription
from paperboard.digests.transport import SendError, Transport

log = logging.getLogger(__name__)
Status = Delivery.Status

CHUNK = 200  # subscribers claimed per transaction; deliveries per SMTP connection
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (60, 300, 900, 3600)  # before the 2nd, 3rd, 4th and 5th attempt
STALE_AFTER = dt.timedelta(hours=20)  # a digest not out by then is dropped: the next one is near
MAX_CONNECTION_ERRORS = 3  # in a row: the mail server is down, leave the rest for the next run

# Set by `paperboard worker` on SIGTERM: a run under way stops after the digest it is sending; what is
# left stays pending for the next run.
stopping = threading.Event()


@dataclass
class Report:
    scheduled: int = 0  # deliveries created for due subscribers
    sent: int = 0
    failed: int = 0  # refused for good, or out of attempts
    retrying: int = 0  # transient failure, tried again later
    skipped: int = 0  # nothing new, unsubscribed or paused meanwhile, too late
    unknown: int = 0  # taken back from a dead run after the hand-over: not resent
    recovered: int = 0  # taken back from a dead run before the hand-over: sent again
    suppressed: int = 0  # addresses suppressed by this run

    def add(self, outcome: str | None) -> None:
        if outcome:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.scheduled} scheduled, {self.sent} sent, {self.failed} failed, {self.retrying} to retry, "
            f"{self.skipped} skipped, {self.unknown} unknown, {self.recovered} recovered, "
            f"{self.suppressed} suppressed"
        )


class Clock:
    """`start` (given, so tests and the benchmark can set it) moving forward with real time: leases taken
    late in a long run still last their full length."""

    def __init__(self, start: dt.datetime | None = None):
        self.start = start or timezone.now()
        self._t0 = time.monotonic()

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self._t0)


class LeaseLost(Exception):
    """Another run took this delivery over (ours outlived its lease): do not send."""


def send_due(now: dt.datetime | None = None, limit: int | None = None, chunk: int = CHUNK) -> Report:
    """Send every digest due at `now` (default: now); at most `limit` deliveries are attempted."""
    clock = Clock(now)
    report = Report()
    recover(clock, report)
    schedule_due(clock, report, chunk)
    deliver_pending(clock, report, limit, chunk)
    return report


# ---- 1. recover ---------------------------------------------------------------------------------------------


def recover(clock: Clock, report: Report) -> None:
    now = clock.now()
    stale = Delivery.objects.filter(status=Status.SENDING, lease_until__lt=now)
    report.unknown += stale.filter(handed_over_at__isnull=False).update(
        status=Status.UNKNOWN,
        last_error="the run sending it stopped after handing it to the mail server; not resent (at most once)",
    )
    report.recovered += stale.filter(handed_over_at__isnull=True).update(
        status=Status.PENDING, retry_at=clock.start, lease_until=None, last_error="the run sending it stopped; sent again"
    )


# ---- 2. schedule --------------------------------------------------------------------------------------------


def schedule_due(clock: Clock, report: Report, chunk: int = CHUNK) -> None:
    now = clock.start
    previous = None
    while True:
        due = list(
            Subscription.objects.due(now).order_by("next_due_at", "pk").values_list("pk", "next_due_at", "frequency")[:chunk]
        )
        if not due or due == previous or stopping.is_set():  # the same rows again: none could be claimed
            return
        previous = due
        with transaction.atomic():
            owed = []
            for pk, due_at, frequency in due:
                claimed = Subscription.objects.filter(pk=pk, next_due_at=due_at).update(
                    next_due_at=schedule.next_slot(frequency, now)
                )
                if claimed:  # only the claimer gets here; another run saw 0 rows and moved on
                    key = schedule.period_key(frequency, due_at)
                    owed.append(Delivery(subscription_id=pk, period_key=key, retry_at=now, created_at=now))
            # ignore_conflicts: a digest for this period exists already (e.g. the frequency changed back)
            Delivery.objects.bulk_create(owed, ignore_conflicts=True)
        report.scheduled += len(owed)


# ---- 3. deliver ---------------------------------------------------------------------------------------------


def deliver_pending(clock: Clock, report: Report, limit: int | None = None, chunk: int = CHUNK) -> None:
    candidates = content.Candidates(clock.start)
    transport = Transport()
    attempted, last_pk, connection_errors = 0, 0, 0
    try:
        while limit is None or attempted < limit:
            pks = list(
                Delivery.objects.filter(status=Status.PENDING, retry_at__lte=clock.start, pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk]
            )
            if not pks:
                return
            last_pk = pks[-1]
            for delivery in Delivery.objects.filter(pk__in=pks).order_by("pk"):
                if (limit is not None and attempted >= limit) or stopping.is_set():
                    return
                result = deliver(delivery, clock, candidates, transport)
                if result.outcome is None:
                    continue  # another run has it
                attempted += 1
                report.add(result.outcome)
                report.suppressed += int(result.suppressed)
                connection_errors = connection_errors + 1 if result.connection_error else 0
                if connection_errors >= MAX_CONNECTION_ERRORS:
                    log.warning("digests: the mail server is not answering; the rest waits for the next run")
                    return
            transport.close()  # one connection per chunk
    finally:
        transport.close()


@dataclass
class Result:
    outcome: str | None  # a Report field; None: another run claimed the delivery first
    connection_error: bool = False
    suppressed: bool = False


def _claim(delivery: Delivery, clock: Clock) -> dt.datetime | None:
    """pending -> sending by compare-and-set; returns the lease (the claim's identity) or None."""
    lease = clock.now() + dt.timedelta(seconds=settings.PAPERBOARD_DIGEST_LEASE_SECONDS)
    claimed = Delivery.objects.filter(pk=delivery.pk, status=Status.PENDING).update(
        status=Status.SENDING, lease_until=lease, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    delivery.refresh_from_db()
    return lease


def _mine(delivery: Delivery, lease: dt.datetime, *statuses):
    """This delivery, while the run holding `lease` still owns it."""
    return Delivery.objects.filter(pk=delivery.pk, lease_until=lease, status__in=statuses or (Status.SENDING,))


def _finish(delivery: Delivery, lease: dt.datetime, status: str, error: str = "", code: int | None = None,
            release: bool = False) -> None:
    with transaction.atomic():
        _mine(delivery, lease).update(status=status, last_error=error[:2000], smtp_code=code, lease_until=None)
        if release:  # the papers were not sent: a later digest may have them
            SentPaper.objects.filter(delivery=delivery).delete()


def _compose(delivery: Delivery, subscription: Subscription, candidates: content.Candidates) -> content.Digest:
    """The papers of this delivery: recorded on its first try, the same on every later one."""
    rows = list(SentPaper.objects.filter(delivery=delivery).order_by("position").values_list("paper_id", "section"))
    if rows:
        return content.load(rows, subscription.frequency)
    picks = content.choose(subscription, candidates)
    if not picks:
        return content.Digest([])
    SentPaper.objects.bulk_create(
        [
            SentPaper(subscription=subscription, paper=paper, delivery=delivery, section=section, position=i)
            for i, (section, paper) in enumerate(picks)
        ],
        ignore_conflicts=True,  # a paper another digest of theirs recorded meanwhile stays with that one
    )
    mine = set(SentPaper.objects.filter(delivery=delivery).values_list("paper_id", flat=True))
    return content.digest([(s, p) for s, p in picks if p.pk in mine], subscription.frequency)


def _why_not(delivery: Delivery, subscription: Subscription, now: dt.datetime) -> str | None:
    if not subscription.active:
        return "unsubscribed or suppressed before it went out"
    if subscription.paused:
        return "paused before it went out"
    if now - delivery.created_at > STALE_AFTER:
        return "too late: not sent within a day of falling due"
    return None


def deliver(delivery: Delivery, clock: Clock, candidates: content.Candidates, transport: Transport) -> Result:
    """Claim, compose and send one pending delivery, and record what happened."""
    lease = _claim(delivery, clock)
    if lease is None:
        return Result(None)
    if delivery.attempts > MAX_ATTEMPTS:  # runs kept dying while sending it
        _finish(delivery, lease, Status.FAILED, f"gave up after {MAX_ATTEMPTS} attempts", release=True)
        return Result("failed")
    subscription = Subscription.objects.select_related("user").get(pk=delivery.subscription_id)  # as of now
    reason = _why_not(delivery, subscription, clock.now())
    if reason:
        _finish(delivery, lease, Status.SKIPPED, reason, release=True)
        return Result("skipped")
    try:
        digest = _compose(delivery, subscription, candidates)
        mail = message.build(subscription, digest, delivery) if len(digest) else None
    except Exception as exc:  # noqa: BLE001 - one digest that cannot be made must not stop the others
        log.exception("digest %s could not be put together", delivery.pk)
        return _failed(delivery, lease, SendError(f"could not be put together: {exc!r}"), clock)
    if mail is None:
        _finish(delivery, lease, Status.SKIPPED, "nothing new for this subscriber")
        return Result("skipped")
    handed_over = False

    def hand_over() -> None:
        nonlocal handed_over
        if not _mine(delivery, lease).update(handed_over_at=clock.now()):
            raise LeaseLost()
        handed_over = True

    try:
        transport.send(mail, hand_over)
    except LeaseLost:
        log.warning("digest %s: lease lost before the hand-over; left to the run that took it", delivery.pk)
        return Result(None)
    except SendError as error:
        if handed_over and error.code is None:
            # The connection broke after the message went to the server, with no answer: it may have been
            # accepted. At most once: not resent.
            _finish(delivery, lease, Status.UNKNOWN, f"{error} (after the hand-over; not resent)")
            return Result("unknown", connection_error=True)
        return _failed(delivery, lease, error, clock)
    now = clock.now()
    with transaction.atomic():
        # `unknown` too: a send slower than its lease, marked unknown meanwhile, did go out after all.
        _mine(delivery, lease, Status.SENDING, Status.UNKNOWN).update(
            status=Status.SENT, sent_at=now, papers_count=len(digest), last_error="", smtp_code=250, lease_until=None
        )
        Subscription.objects.filter(pk=subscription.pk).update(last_sent_at=now, failures=0)
    return Result("sent")


def _failed(delivery: Delivery, lease: dt.datetime, error: SendError, clock: Clock) -> Result:
    now = clock.now()
    if error.permanent:
        with transaction.atomic():
            _finish(delivery, lease, Status.FAILED, str(error), error.code, release=True)
            suppressed = subscriptions.record_permanent_failure(delivery.subscription_id, str(error), now)
        return Result("failed", suppressed=suppressed)
    if delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, lease, Status.FAILED, f"{error} (gave up after {delivery.attempts} attempts)", error.code,
                release=True)
        return Result("failed", connection_error=error.connection)
    wait = BACKOFF_SECONDS[min(delivery.attempts, len(BACKOFF_SECONDS)) - 1]
    _mine(delivery, lease).update(
        status=Status.PENDING, retry_at=now + dt.timedelta(seconds=wait), last_error=str(error)[:2000],
        smtp_code=error.code, lease_until=None, handed_over_at=None,
    )
    return Result("retrying", connection_error=error.connection)
