"""Shared fixtures: a tiny paper factory, the people tests act as (personas and `make_user`), and helpers."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
from pathlib import Path

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


# ---- People -------------------------------------------------------------------------------------------------
# Personas with fixed roles, so permission tests read like sentences:
#   alice   a confirmed reader who owns things (comments, collections, claims, tokens)
#   bob     another confirmed reader: not the owner of what alice owns
#   charlie just signed up: the e-mail address is not confirmed yet
#   mallory a banned account
#   admin   staff and superuser: may moderate
# Everyone else is made with `make_user`. Every persona's password is PASSWORD, the address <name>@example.org.

def copy_fixture(fixture: Path, folder: Path, *, gzipped: bool) -> Path:
    """A copy of the fixture file in `folder`, gzip-compressed (and named `.gz`) when `gzipped`."""
    if not gzipped:
        return Path(shutil.copy(fixture, folder / fixture.name))
    path = folder / (fixture.name + ".gz")
    with fixture.open("rb") as src, gzip.open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


PASSWORD = "correct horse battery"
LONG_AGO = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def make_user(username: str, *, email: str | None = None, password: str | None = PASSWORD, confirmed: bool = True,
              joined: dt.datetime | None = LONG_AGO, staff: bool = False, superuser: bool = False,
              banned: bool = False, active: bool = True, **fields):
    """An account; by default a long-standing member with a confirmed address who may write.

    `joined` is when the account was made (trending and the submission rules count its age; None: now),
    `confirmed=False` leaves the address unconfirmed, `banned`, `active`, `staff` and `superuser` set what
    they say, `password=None` makes it unusable; other `fields` go to the user model (`first_name`...)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from paperboard.accounts.models import profile_of

    User = get_user_model()
    create = User.objects.create_superuser if superuser else User.objects.create_user
    joined = joined or timezone.now()
    user = create(username, f"{username}@example.org" if email is None else email, password,
                  date_joined=joined, is_staff=staff or superuser, is_active=active, **fields)
    profile = profile_of(user)
    profile.email_confirmed_at = joined if confirmed else None
    profile.save()
    if banned:
        ban(user)
    return user


def ban(user, reason: str = "") -> None:
    """Ban `user` now, as a moderator would."""
    from django.utils import timezone

    from paperboard.accounts.models import profile_of

    profile = profile_of(user)
    profile.banned_at, profile.ban_reason = timezone.now(), reason
    profile.save()


def as_user(user, **client_options):
    """A Django test Client logged in as `user` (`client_options` as for Client, e.g. enforce_csrf_checks)."""
    from django.test import Client

    client = Client(**client_options)
    client.force_login(user)
    return client


def api_token(user, name: str = "test") -> str:
    """A new API token of `user`, in plain text."""
    from paperboard.accounts.models import ApiToken

    return ApiToken.issue(user, name)[1]


def bearer(token: str | None) -> dict:
    """The test Client's keyword arguments that send `token` as a bearer token (none for no token)."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}


@pytest.fixture
def alice(db):
    """A confirmed reader who owns things."""
    return make_user("alice")


@pytest.fixture
def bob(db):
    """Another confirmed reader: not the owner of what alice owns."""
    return make_user("bob")


@pytest.fixture
def charlie(db):
    """Just signed up: the e-mail address is not confirmed yet."""
    return make_user("charlie", confirmed=False, joined=None)


@pytest.fixture
def mallory(db):
    """A banned account."""
    return make_user("mallory", banned=True)


@pytest.fixture
def admin(db):
    """Staff and superuser: may moderate."""
    return make_user("admin", superuser=True)


@pytest.fixture
def alice_client(alice):
    """A Client logged in as alice."""
    return as_user(alice)


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
