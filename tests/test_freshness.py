"""The data version that keys cached anonymous pages and API answers: bumped by the writes themselves (model
signals, and the services that write without them), once per transaction and only when it commits.

These tests use real commits (`transactional_db`): a test case's own transaction never commits."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from paperboard.community import submissions, votes
from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers import freshness
from paperboard.papers.models import Paper, Vote
from tests.conftest import make_paper, make_user, put_on_feed

PACKAGE = Path(__file__).resolve().parent.parent / "paperboard"
LONG_AGO = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DAY = "2025-01-10"


def writer(username: str, *, staff: bool = False):
    return make_user(username, staff=staff)


@pytest.fixture
def feed(transactional_db):
    a = make_paper("2501.00001", "Attention is still all you need")
    b = make_paper("2501.00002", "Scaling laws for tiny models")
    put_on_feed(a, DAY, votes=3)
    put_on_feed(b, DAY, votes=7)
    return Paper.objects.get(pk=a.pk), Paper.objects.get(pk=b.pk)


def api_items(client: Client) -> dict[str, dict]:
    r = client.get("/api/daily_papers", {"date": DAY})
    assert r.status_code == 200
    return {item["paper"]["id"]: item for item in r.json()}


def page(client: Client, path: str = f"/papers/date/{DAY}") -> str:
    r = client.get(path)
    assert r.status_code == 200
    return r.content.decode()


def titles(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/papers/[^"]+">([^<]+)</a></h3>', html)


def test_no_view_module_bumps_the_data_version_by_hand():
    views = [p for p in PACKAGE.rglob("*.py") if "views" in p.name or "views" in p.parts or p.parent.name == "api"]
    assert views, "no view modules found"
    for path in views:
        text = path.read_text()
        assert not re.search(r"\bdata_changed\b|freshness\.(changed|_bump)\(", text), f"{path}: a view bumps the data version"


def test_a_vote_shows_at_once_on_the_cached_page_and_in_the_api(feed):
    a, b = feed
    reader, voter = Client(), Client()
    assert titles(page(reader))[0] == b.title and api_items(reader)[a.arxiv_id]["paper"]["upvotes"] == 3
    voter.force_login(writer("ann"))
    for i in range(5):
        votes.upvote(writer(f"fan{i}"), a)
    assert voter.post(f"/papers/{a.arxiv_id}/upvote").status_code in (200, 302)
    assert titles(page(reader))[0] == a.title  # 9 votes against 7
    assert api_items(reader)[a.arxiv_id]["paper"]["upvotes"] == 9


def test_a_comment_shows_at_once_in_the_cached_api_answer(feed):
    a, _ = feed
    reader, author = Client(), Client()
    assert api_items(reader)[a.arxiv_id]["numComments"] == 0
    author.force_login(writer("ann"))
    assert author.post(f"/papers/{a.arxiv_id}/comments", {"body": "Nice result."}).status_code in (200, 302)
    assert api_items(reader)[a.arxiv_id]["numComments"] == 1
    assert "Nice result." in page(reader, f"/papers/{a.arxiv_id}")


def test_a_submission_shows_at_once_on_the_cached_day_page(feed, settings):
    settings.PAPERBOARD_SUBMIT_RECENCY_DAYS = 14
    settings.PAPERBOARD_SUBMIT_WEEKEND_PAUSE = False
    settings.PAPERBOARD_SUBMIT_WHO = "confirmed"
    settings.TIME_ZONE = "UTC"
    fresh = make_paper("2501.00003", "A freshly submitted paper", published="2025-01-09")
    reader = Client()
    assert fresh.title not in titles(page(reader)) and fresh.arxiv_id not in api_items(reader)
    submissions.submit(writer("ann"), fresh.arxiv_id, now=dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC))
    assert fresh.title in titles(page(reader)) and fresh.arxiv_id in api_items(reader)


def test_an_import_shows_at_once_and_bumps_the_version_once(feed):
    a, _ = feed
    reader = Client()
    assert a.title in titles(page(reader))
    before = freshness.data_version()
    records = [
        PaperRecord(arxiv_id=a.arxiv_id, title="Attention, revised", abstract="New abstract.", authors=["Ada Lovelace"],
                    categories=["cs.LG"], published_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC), version=2),
        *(PaperRecord(arxiv_id=f"2501.0010{i}", title=f"Imported {i}", abstract="", authors=["Alan Turing"],
                      categories=["cs.LG"], published_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC)) for i in range(5)),
    ]
    store.import_records(records, batch_size=2)  # three transactions: still one bump
    assert freshness.data_version() == before + 1
    assert "Attention, revised" in titles(page(reader))
    assert api_items(reader)[a.arxiv_id]["title"] == "Attention, revised"


def test_a_moderator_hiding_a_paper_takes_it_off_the_cached_page_and_api_at_once(feed):
    a, _ = feed
    reader, moderator = Client(), Client()
    assert a.title in titles(page(reader)) and a.arxiv_id in api_items(reader)
    moderator.force_login(writer("mod", staff=True))
    r = moderator.post("/admin/moderation/act", {"action": "hide_paper", "target": a.pk, "reason": "spam"})
    assert r.status_code in (200, 302)
    assert a.title not in titles(page(reader)) and a.arxiv_id not in api_items(reader)


def test_the_version_moves_only_when_the_write_commits_and_once_per_transaction(feed):
    a, b = feed
    ann, bob = writer("ann"), writer("bob")
    before = freshness.data_version()
    with transaction.atomic():
        votes.upvote(ann, a)
        votes.upvote(bob, a)
        votes.upvote(ann, b)
        assert freshness.data_version() == before  # a reader now still gets pages of the old data
    assert freshness.data_version() == before + 1


def test_a_rolled_back_write_bumps_nothing_and_the_next_write_still_does(feed):
    a, _ = feed
    ann = writer("ann")
    before = freshness.data_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        votes.upvote(ann, a)
        raise RuntimeError("the request failed")
    assert freshness.data_version() == before and not Vote.objects.filter(user=ann).exists()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint rolled back...
            votes.upvote(ann, a)
            raise RuntimeError("the inner step failed")
        votes.upvote(writer("bob"), a)  # ...does not swallow the bump of a later write
    assert freshness.data_version() == before + 1


def test_a_login_does_not_bump_the_version_but_a_new_display_name_does(feed):
    ann = writer("ann")
    before = freshness.data_version()
    client = Client()
    assert client.post("/accounts/login", {"username": "ann", "password": "wrong"}).status_code in (200, 400)
    ann.set_password("correct horse battery")
    get_user_model().objects.filter(pk=ann.pk).update(password=ann.password)
    assert client.login(username="ann", password="correct horse battery")  # stamps last_login
    assert freshness.data_version() == before
    ann.first_name = "Ann Smith"
    ann.save(update_fields=["first_name"])
    assert freshness.data_version() == before + 1
