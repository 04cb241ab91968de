"""Shared fixtures: a tiny paper factory and a frozen 'today' for feed tests."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers.models import Paper, Submission, Vote

os.environ.setdefault("HF_HUB_OFFLINE", "0")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def make_paper(arxiv_id: str, title: str | None = None, *, authors=("Ada Lovelace", "Alan Turing"),
               categories=("cs.LG", "stat.ML"), published="2025-01-02", **extra) -> Paper:
    """Create a paper through the real import path (so tests exercise the store too)."""
    record = PaperRecord(
        arxiv_id=arxiv_id,
        title=title or f"Paper {arxiv_id}",
        abstract=f"Abstract of {arxiv_id}.",
        authors=list(authors),
        categories=list(categories),
        published_at=dt.datetime.fromisoformat(published).replace(tzinfo=dt.UTC),
        **extra,
    )
    store.import_records([record])
    return Paper.objects.get(arxiv_id=arxiv_id)


def put_on_feed(paper: Paper, day: str, *, user=None, votes: int = 0, hour: int = 9) -> Submission:
    """Put `paper` on the feed of `day` with `votes` upvotes from fresh users."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    d = dt.date.fromisoformat(day)
    s = Submission.objects.create(
        paper=paper, day=d, submitted_at=dt.datetime(d.year, d.month, d.day, hour, tzinfo=dt.UTC), submitter=user
    )
    for i in range(votes):
        voter, _ = User.objects.get_or_create(username=f"voter{i}")
        Vote.objects.create(user=voter, paper=paper)
    paper.upvotes = paper.imported_upvotes + votes
    paper.save(update_fields=["upvotes"])
    return s


@pytest.fixture
def alice(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("alice", "alice@example.org", "correct horse battery")


@pytest.fixture
def bob(db):
    """Another user: not the owner of what alice owns."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("bob", "bob@example.org")


@pytest.fixture
def admin(db):
    """Staff: may moderate."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("admin", "admin@example.org", None)


class CheapArgon2(Argon2PasswordHasher):
    """Argon2 with tiny costs: tests hash many passwords. The production costs are checked in test_accounts."""

    time_cost, memory_cost, parallelism = 1, 256, 1


@pytest.fixture(autouse=True)
def _cheap_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.conftest.CheapArgon2"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import caches

    from paperboard.search import lexical

    for alias in ("default", "responses"):
        caches[alias].clear()
    lexical.forget_counts()
    yield
    for alias in ("default", "responses"):
        caches[alias].clear()
    lexical.forget_counts()


def pytest_collection_modifyitems(config, items):
    """The inner half of the pgvector test runs only inside the pgserver subprocess its outer half starts."""
    if os.environ.get("PB_TEST_PGVECTOR_INNER") == "1":
        return
    inner = [i for i in items if i.get_closest_marker("pgvector_inner")]
    if inner:
        config.hook.pytest_deselected(items=inner)
        items[:] = [i for i in items if not i.get_closest_marker("pgvector_inner")]


@pytest.fixture
def vectors_in_tmp(settings, tmp_path):
    """The test gets its own vector index files and starts like a fresh process (semantic search tests)."""
    from paperboard.search.semantic import inprocess

    settings.DATA_DIR = tmp_path
    inprocess.forget_loaded_indexes()
    yield
    inprocess.forget_loaded_indexes()
