"""Sending digests: `send_due(now=None, limit=None, processes=1) -> Report`, run every minute by
`paperboard worker` (or by `paperboard digest send [--processes N]` from cron). Safe to run in several
processes at once and after a crash.

Three steps, each in chunks of CHUNK (memory stays flat in the number of subscribers):

1. recover: a delivery left `sending` by a run that died is taken back after its lease
   (PAPERBOARD_DIGEST_LEASE_SECONDS): to `pending` when its message had not reached the mail server yet,
   to `unknown` (never resent) when it had.
2. schedule: due subscribers are claimed by compare-and-set on `next_due_at`, a chunk at a time: in one
   transaction that holds the rows (SQLite's write lock, PostgreSQL's FOR UPDATE) the rows still carrying
   the `next_due_at` read before are moved to the next send time by one
   UPDATE … WHERE id IN (…) AND next_due_at = <old> per old due time and frequency, and the Delivery rows
   for their periods are inserted (unique per subscription and period). Either both happen or neither: a
   due digest is never dropped and never owed twice.
3. deliver: a chunk of pending deliveries is claimed by one compare-and-set UPDATE on their status
   (pending -> sending, with one lease for the chunk; the rows carrying that lease afterwards are this
   run's). Their papers are chosen and recorded together (`content.offers` from lists shared by the run,
   one query for what the chunk's subscribers had before, one insert of the SentPaper rows, unique per
   subscriber, so no paper goes to anyone twice). Then each is sent in turn over one connection per chunk:
   its attempt is counted under the lease (`_start`; a claimed delivery never started goes back to
   `pending` without one, whether this run stops or dies), the message is assembled from the run's
   rendered paper blocks, and the hand-over is recorded, under the lease and in autocommit (one UPDATE),
   after the server took the envelope and before DATA: a run that lost its lease calls the send off there.
   Then the delivery is marked `sent`; the subscriptions' `last_sent_at` and failure count once per chunk.
   With `processes` > 1 this step runs in that many forked processes; they need no coordination beyond
   the claim.

Exactly once: the only window left is between the hand-over and `sent` (the server may have taken the
message, the run died before recording it). There we choose at-most-once: such a delivery becomes
`unknown` and is not resent (its papers stay recorded). See docs/digests.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from paperboard.digests import content, message, preferences, schedule, subscriptions
from paperboard.digests.models import Delivery, SentPaper, Subscription
from paperboard.mail.transport import SendError, Transport

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


def send_due(now: dt.datetime | None = None, limit: int | None = None, chunk: int = CHUNK,
             processes: int = 1) -> Report:
    """Send every digest due at `now` (default: now); at most `limit` deliveries are attempted. With
    `processes` > 1 the deliver step runs in that many forked processes, which claim disjoint chunks."""
    clock = Clock(now)
    report = Report()
    small_page_cache()
    recover(clock, report)
    schedule_due(clock, report, chunk)
    if processes > 1:
        _deliver_in_processes(clock, report, processes, limit, chunk)
    else:
        deliver_pending(clock, report, limit, chunk)
    return report


def _deliver_in_processes(clock: Clock, report: Report, processes: int, limit: int | None, chunk: int) -> None:
    """Step 3 in `processes` forked processes. Nothing is divided up front: each claims chunks by
    compare-and-set like any other run, so none sends what another claimed; a `limit` is split between them."""
    limits = [None] * processes if limit is None else [limit // processes + (i < limit % processes) for i in range(processes)]
    connections.close_all()  # each child opens its own
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.starmap(_deliver_part, [(clock, n, chunk) for n in limits if n is None or n > 0])
        pool.close()
        pool.join()
    for part in parts:
        for name, value in part.items():
            setattr(report, name, getattr(report, name) + value)


def _deliver_part(clock: Clock, limit: int | None, chunk: int) -> dict:
    report = Report()
    try:
        small_page_cache()
        deliver_pending(clock, report, limit, chunk)
    finally:
        connections.close_all()
    return report.as_dict()


# A run reads each subscriber's rows once: SQLite's page cache (64 MiB per connection by default, see
# conf.parse_database_url) would only fill with pages never read again and make the sender's memory grow
# with the number of subscribers (74 -> 89 MiB for 20k -> 50k at 64 MiB; 72 -> 74 MiB at 2 MiB, at the
# same speed: bench/results/digest_send.md).
SENDER_PAGE_CACHE_KIB = 2000


def small_page_cache() -> None:
    """Shrink this process's SQLite page cache for the run (no-op on PostgreSQL)."""
    conn = connections["default"]
    if conn.vendor == "sqlite":
        with conn.cursor() as cur:
            cur.execute(f"PRAGMA cache_size=-{SENDER_PAGE_CACHE_KIB}")


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
            # Inside the transaction nobody else can move these rows (SQLite: BEGIN IMMEDIATE holds the write
            # lock; PostgreSQL: FOR UPDATE), so the ones still carrying the next_due_at read above are
            # claimed by one compare-and-set UPDATE per (old due time, frequency) instead of one per row.
            now_due = dict(Subscription.objects.select_for_update().filter(pk__in=[pk for pk, _, _ in due])
                           .values_list("pk", "next_due_at"))
            groups: dict[tuple, list[int]] = defaultdict(list)
            for pk, due_at, frequency in due:
                if now_due.get(pk) == due_at:  # another run claimed the others first
                    groups[(due_at, frequency)].append(pk)
            owed = []
            for (due_at, frequency), pks in groups.items():
                claimed = Subscription.objects.filter(pk__in=pks, next_due_at=due_at).update(
                    next_due_at=schedule.next_slot(frequency, now)
                )
                if claimed != len(pks):  # cannot happen under the lock; never owe a digest twice if it does
                    raise transaction.TransactionManagementError("digest schedule: rows moved under the lock")
                key = schedule.period_key(frequency, due_at)
                owed += [Delivery(subscription_id=pk, period_key=key, retry_at=now, created_at=now) for pk in pks]
            # ignore_conflicts: a digest for this period exists already (e.g. the frequency changed back)
            Delivery.objects.bulk_create(owed, ignore_conflicts=True)
        report.scheduled += len(owed)


# ---- 3. deliver ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    outcome: str | None  # a Report field; None: another run claimed the delivery first
    connection_error: bool = False
    suppressed: bool = False


class Run:
    """What one delivery run shares across its chunks: the candidate lists, the rendered paper blocks, the
    mail connection, and when to stop (the limit, SIGTERM, a mail server that does not answer)."""

    def __init__(self, clock: Clock, report: Report, limit: int | None = None, transport: Transport | None = None):
        self.clock, self.report, self.limit = clock, report, limit
        self.candidates = content.Candidates(clock.start)
        self.renderer = message.Renderer()
        self.transport = transport or Transport()
        self.attempted, self.connection_errors = 0, 0

    def room(self, chunk: int) -> int:
        """How many more deliveries this run may claim (0: stop)."""
        if stopping.is_set() or self.connection_errors >= MAX_CONNECTION_ERRORS:
            return 0
        return chunk if self.limit is None else max(0, min(chunk, self.limit - self.attempted))

    def record(self, result: Result) -> None:
        if result.outcome is None:
            return  # another run has it
        self.attempted += 1
        self.report.add(result.outcome)
        self.report.suppressed += int(result.suppressed)
        self.connection_errors = self.connection_errors + 1 if result.connection_error else 0
        if self.connection_errors == MAX_CONNECTION_ERRORS:
            log.warning("digests: the mail server is not answering; the rest waits for the next run")


def deliver_pending(clock: Clock, report: Report, limit: int | None = None, chunk: int = CHUNK) -> None:
    run = Run(clock, report, limit)
    last_pk = 0
    try:
        while n := run.room(chunk):
            pks = list(
                Delivery.objects.filter(status=Status.PENDING, retry_at__lte=clock.start, pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", flat=True)[:n]
            )
            if not pks:
                return
            last_pk = pks[-1]
            deliver_chunk(pks, run)
            run.transport.close()  # one connection per chunk
    finally:
        run.transport.close()


def deliver(delivery: Delivery, clock: Clock, candidates: content.Candidates, transport: Transport) -> Result:
    """Claim, compose and send one pending delivery, and record what happened."""
    run = Run(clock, Report(), transport=transport)
    run.candidates = candidates
    results = deliver_chunk([delivery.pk], run)
    return results[0] if results else Result(None)


def deliver_chunk(pks: list[int], run: Run) -> list[Result]:
    """Claim the pending deliveries among `pks` with one UPDATE, choose and record all their papers in a few
    queries, then send them one by one (each with its own attempt count and hand-over)."""
    lease, deliveries = _claim(pks, run.clock)
    if not deliveries:
        return []
    subscriptions = Subscription.objects.select_related("user").in_bulk([d.subscription_id for d in deliveries])
    now = run.clock.now()
    wanted = [d for d in deliveries if d.attempts < MAX_ATTEMPTS and not _why_not(d, subscriptions[d.subscription_id], now)]
    digests = _compose(wanted, subscriptions, run.candidates)
    results, sent_to = [], []
    for i, delivery in enumerate(deliveries):
        if not run.room(1):  # stopped or out of room: the rest goes back, untried
            _release(deliveries[i:], lease)
            break
        result = _deliver_one(delivery, lease, subscriptions[delivery.subscription_id], digests.get(delivery.pk), run)
        run.record(result)
        results.append(result)
        if result.outcome == "sent":
            sent_to.append(delivery.subscription_id)
    if sent_to:  # a delivered digest resets the failure count
        Subscription.objects.filter(pk__in=sent_to).update(last_sent_at=run.clock.now(), failures=0)
    return results


def _claim(pks: list[int], clock: Clock) -> tuple[dt.datetime, list[Delivery]]:
    """pending -> sending by compare-and-set, for a whole chunk; the lease is the claim's identity: the rows
    carrying it afterwards are this run's. Attempts are counted when each one is started (`_start`)."""
    lease = clock.now() + dt.timedelta(seconds=settings.PAPERBOARD_DIGEST_LEASE_SECONDS)
    Delivery.objects.filter(pk__in=pks, status=Status.PENDING, retry_at__lte=clock.start).update(
        status=Status.SENDING, lease_until=lease
    )
    return lease, list(Delivery.objects.filter(pk__in=pks, status=Status.SENDING, lease_until=lease).order_by("pk"))


def _mine(delivery: Delivery, lease: dt.datetime, *statuses):
    """This delivery, while the run holding `lease` still owns it."""
    return Delivery.objects.filter(pk=delivery.pk, lease_until=lease, status__in=statuses or (Status.SENDING,))


def _start(delivery: Delivery, lease: dt.datetime) -> bool:
    """Count the attempt, if the delivery is still ours (False: another run took it over)."""
    if not _mine(delivery, lease).update(attempts=F("attempts") + 1):
        return False
    delivery.attempts += 1
    return True


def _release(deliveries: list[Delivery], lease: dt.datetime) -> None:
    """Give claimed deliveries that were never started back to `pending` (their papers stay recorded)."""
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries], lease_until=lease, status=Status.SENDING).update(
        status=Status.PENDING, lease_until=None
    )


def _finish(delivery: Delivery, lease: dt.datetime, status: str, error: str = "", code: int | None = None,
            release: bool = False) -> None:
    with transaction.atomic():
        _mine(delivery, lease).update(status=status, last_error=error[:2000], smtp_code=code, lease_until=None)
        if release:  # the papers were not sent: a later digest may have them
            SentPaper.objects.filter(delivery=delivery).delete()


def _compose(deliveries: list[Delivery], subscriptions: dict[int, Subscription],
             candidates: content.Candidates) -> dict[int, content.Digest | Exception]:
    """The papers of each delivery: recorded on its first try (for the whole chunk at once: one query for
    what its subscribers had before, one insert, one read-back), the same on every later one."""
    recorded: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rows = SentPaper.objects.filter(delivery__in=deliveries).order_by("delivery_id", "position")
    for delivery_id, paper_id, section in rows.values_list("delivery_id", "paper_id", "section"):
        recorded[delivery_id].append((paper_id, section))
    digests: dict[int, content.Digest | Exception] = {}
    fresh: dict[int, tuple[Delivery, preferences.Preferences, dict]] = {}
    for d in deliveries:
        subscription = subscriptions[d.subscription_id]
        try:
            if d.pk in recorded:
                digests[d.pk] = content.load(recorded[d.pk], subscription.frequency)
            else:
                prefs = preferences.of(subscription)
                fresh[d.pk] = (d, prefs, content.offers(subscription, candidates, prefs))
        except Exception as exc:  # noqa: BLE001 - one digest that cannot be made must not stop the others
            log.exception("digest %s could not be put together", d.pk)
            digests[d.pk] = exc
    sent = content.already_sent(
        {d.subscription_id: {p.pk for papers in lists.values() for p in papers} for d, _, lists in fresh.values()}
    )
    picks = {pk: content.pick(lists, sent[d.subscription_id], prefs.max_papers) for pk, (d, prefs, lists) in fresh.items()}
    _record_papers(
        (fresh[pk][0].subscription_id, paper.pk, pk, section, i)
        for pk, chosen in picks.items()
        for i, (section, paper) in enumerate(chosen)
    )
    mine = set(SentPaper.objects.filter(delivery_id__in=[pk for pk, c in picks.items() if c]).values_list("delivery_id", "paper_id"))
    for pk, chosen in picks.items():
        frequency = subscriptions[fresh[pk][0].subscription_id].frequency
        digests[pk] = content.digest([(s, p) for s, p in chosen if (pk, p.pk) in mine], frequency)
    return digests


def _record_papers(rows) -> None:
    """Insert (subscription, paper, delivery, section, position) SentPaper rows; a paper another digest of
    theirs recorded meanwhile stays with that one (the unique constraint, ON CONFLICT DO NOTHING). One
    executemany: bulk_create's per-object work cost as much as sending the message."""
    meta = SentPaper._meta
    columns = ", ".join(meta.get_field(f).column for f in ("subscription", "paper", "delivery", "section", "position"))
    sql = f"INSERT INTO {meta.db_table} ({columns}) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    rows = list(rows)
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def _why_not(delivery: Delivery, subscription: Subscription, now: dt.datetime) -> str | None:
    if not subscription.active:
        return "unsubscribed or suppressed before it went out"
    if subscription.paused:
        return "paused before it went out"
    if now - delivery.created_at > STALE_AFTER:
        return "too late: not sent within a day of falling due"
    return None


def _deliver_one(delivery: Delivery, lease: dt.datetime, subscription: Subscription,
                 digest: content.Digest | Exception | None, run: Run) -> Result:
    if not _start(delivery, lease):
        return Result(None)
    clock = run.clock
    if delivery.attempts > MAX_ATTEMPTS:  # runs kept dying while sending it
        _finish(delivery, lease, Status.FAILED, f"gave up after {MAX_ATTEMPTS} attempts", release=True)
        return Result("failed")
    reason = _why_not(delivery, subscription, clock.now())
    if reason:
        _finish(delivery, lease, Status.SKIPPED, reason, release=True)
        return Result("skipped")
    try:
        if isinstance(digest, Exception):
            raise digest
        mail = message.build(subscription, digest, delivery, run.renderer) if digest else None
    except Exception as exc:  # noqa: BLE001 - one digest that cannot be made must not stop the others
        log.exception("digest %s could not be put together", delivery.pk)
        return _failed(delivery, lease, SendError(f"could not be put together: {exc!r}"), clock)
    if mail is None:
        _finish(delivery, lease, Status.SKIPPED, "nothing new for this subscriber")
        return Result("skipped")
    handed_over = False

    def hand_over() -> None:  # one UPDATE, in autocommit
        nonlocal handed_over
        if not _mine(delivery, lease).update(handed_over_at=clock.now()):
            raise LeaseLost()
        handed_over = True

    try:
        run.transport.send(mail, hand_over)
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
    # `unknown` too: a send slower than its lease, marked unknown meanwhile, did go out after all.
    _mine(delivery, lease, Status.SENDING, Status.UNKNOWN).update(
        status=Status.SENT, sent_at=clock.now(), papers_count=len(digest), last_error="", smtp_code=250,
        lease_until=None,
    )
    return Result("sent")  # the subscription's last_sent_at and failure count: once per chunk


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
