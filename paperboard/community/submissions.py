"""Submitting a paper to the feed: gather the facts, apply `rules`, fetch unknown papers from arXiv, write.

    submit(user, "https://arxiv.org/abs/2501.01234v2", note="…") -> Submission   (or raises Refused)

A paper not in the database yet is fetched from the arXiv API (`harvest.fetch_by_ids`, at
PAPERBOARD_ARXIV_API_URL) and upserted with `store.import_records` before the rules about the paper
run. The fetch happens outside any transaction; the quota and duplicate checks are repeated inside the
transaction that creates the Submission, with the submitter's row locked, so two concurrent
submissions cannot exceed the quota or put one paper on the feed twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from paperboard.accounts.models import profile_of
from paperboard.community import rules
from paperboard.ingest import harvest, store
from paperboard.ingest.records import PaperRecord
from paperboard.papers.models import Paper, Submission

log = logging.getLogger(__name__)

FETCH_ATTEMPTS = 2  # a person is waiting: retry a failed arXiv request once, not the harvester's 4 times

# One arXiv client per process, used by one request at a time, so submissions in a process keep the
# harvester's spacing between requests (PAPERBOARD_ARXIV_DELAY; never under 3 s against arxiv.org).
_client_lock = threading.Lock()
_client: tuple[tuple, harvest.ArxivClient] | None = None


def _arxiv_client() -> harvest.ArxivClient:
    global _client
    key = (
        settings.PAPERBOARD_ARXIV_API_URL,
        settings.PAPERBOARD_ARXIV_DELAY,
        settings.PAPERBOARD_HTTP_TIMEOUT,
    )
    if _client is None or _client[0] != key:
        _client = (key, harvest.ArxivClient(attempts=FETCH_ATTEMPTS))
    return _client[1]


def fetch_from_arxiv(arxiv_id: str) -> Paper:
    """Fetch one paper's metadata from the arXiv API and upsert it; Refused when arXiv lacks it or fails."""
    with _client_lock:
        try:
            records = harvest.fetch_by_ids([arxiv_id], client=_arxiv_client())
        except harvest.HarvestError as exc:
            if exc.status is not None and 400 <= exc.status < 500:  # the API refuses the id itself
                raise rules.not_found(arxiv_id) from None
            log.warning("arXiv fetch of %s failed: %s", arxiv_id, exc)
            raise rules.arxiv_unavailable() from None
    found = [r for r in records if isinstance(r, PaperRecord) and r.arxiv_id == arxiv_id]
    if not found:
        raise rules.not_found(arxiv_id)
    store.import_records(found[:1])
    return Paper.objects.get(arxiv_id=arxiv_id)


def account_facts(user, today: dt.date, now: dt.datetime) -> rules.Account:
    if user is None or not user.is_authenticated:
        return rules.Account(authenticated=False)
    profile = profile_of(user)
    is_admin = bool(user.is_staff)
    return rules.Account(
        authenticated=True,
        is_admin=is_admin,
        active=user.is_active,
        banned=profile.banned,
        confirmed=profile.confirmed,
        age_hours=max(0.0, (now - user.date_joined).total_seconds() / 3600.0),
        submitted_today=0 if is_admin else Submission.objects.filter(submitter=user, day=today).count(),
    )


def candidate_facts(paper: Paper) -> rules.Candidate:
    day = Submission.objects.filter(paper=paper).values_list("day", flat=True).first()
    return rules.Candidate(
        arxiv_id=paper.arxiv_id, first_version_at=paper.published_at, on_feed_day=day, hidden=paper.hidden
    )


def submit(user, text: str, note: str = "", now: dt.datetime | None = None) -> Submission:
    """Put the paper named by `text` (arXiv id or URL) on today's feed, as `user`. Raises Refused."""
    now = now or timezone.now()
    today = timezone.localdate(now)  # the feed day, in settings.TIME_ZONE
    policy = rules.Policy.from_settings()

    account = account_facts(user, today, now)
    rules.check_account(account)
    arxiv_id = rules.parse_paper_id(text)
    note = rules.check_note(note)
    rules.check_submitter(account, policy, today)

    paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
    if paper is None:
        paper = fetch_from_arxiv(arxiv_id)
    rules.check_paper(candidate_facts(paper), account, policy, now)

    try:
        with transaction.atomic():
            # Lock the submitter (PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock),
            # then check the quota and duplicates again: another request may have written since.
            get_user_model().objects.select_for_update().filter(pk=user.pk).first()
            account = account_facts(user, today, now)
            rules.check_submitter(account, policy, today)
            rules.check_paper(candidate_facts(paper), account, policy, now)
            submission = Submission.objects.create(
                paper=paper, day=today, submitted_at=now, submitter=user, note=note, source="local"
            )
    except IntegrityError:  # the one-to-one on paper: someone submitted it a moment ago
        day = Submission.objects.filter(paper=paper).values_list("day", flat=True).first() or today
        raise rules.duplicate(arxiv_id, day) from None
    log.info("%s submitted %s to the feed of %s", user.username, arxiv_id, today)
    return submission
