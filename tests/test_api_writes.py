"""The write API: bearer tokens, submit, upvote and take back, comments; errors are JSON with a code.

Personas: alice owns a token, bob is another confirmed user, carol is anonymous (no token), and mallory, a
banned account whose token still authenticates but may not write.
"""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from paperboard.accounts.models import ApiToken
from paperboard.papers.models import Paper, Vote
from tests.conftest import api_token, bearer, make_paper, put_on_feed


@pytest.fixture
def people(db, settings, alice, bob, mallory):
    settings.PAPERBOARD_RATELIMIT_ENABLED = False
    recent = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    paper = make_paper("2501.00001", "On the feed", published=recent)
    put_on_feed(paper, "2025-01-10")
    fresh = make_paper("2501.00002", "Not yet on the feed", published=recent)
    return {"alice": api_token(alice), "bob": api_token(bob), "mallory": api_token(mallory), "paper": paper,
            "fresh": fresh}


def call(method, path, token=None, body=None):
    data = json.dumps(body) if body is not None else None
    r = getattr(Client(), method)(path, data=data, content_type="application/json", **bearer(token))
    return r.status_code, (r.json() if r.content else None), r


@pytest.mark.parametrize("method,path,body", [
    ("post", "/api/papers/submit", {"id": "2501.00002"}),
    ("post", "/api/papers/2501.00001/upvote", None),
    ("delete", "/api/papers/2501.00001/upvote", None),
    ("post", "/api/papers/2501.00001/comments", {"body": "hi"}),
])
def test_every_write_needs_a_valid_token(people, method, path, body):
    for token in (None, "pb_not-a-real-token"):
        status, data, _ = call(method, path, token, body)
        assert status == 401 and data["code"] == "unauthorized", (token, data)


@pytest.mark.parametrize("method,path,body", [
    ("post", "/api/papers/submit", {"id": "2501.00002"}),
    ("post", "/api/papers/2501.00001/upvote", None),
    ("post", "/api/papers/2501.00001/comments", {"body": "hi"}),
])
def test_a_banned_account_is_refused_every_write(people, method, path, body):
    status, data, _ = call(method, path, people["mallory"], body)
    assert (status, data["code"]) == (403, "banned")


def test_a_revoked_token_stops_working(people):
    ApiToken.objects.filter(user__username="alice").update(revoked_at=timezone.now())
    assert call("post", "/api/papers/2501.00001/upvote", people["alice"])[0] == 401


def test_alice_submits_a_paper_and_gets_the_daily_item(people):
    status, data, _ = call("post", "/api/papers/submit", people["alice"], {"id": "https://arxiv.org/abs/2501.00002v1", "note": "great"})
    assert status == 201
    assert data["paper"]["id"] == "2501.00002" and data["submittedBy"]["user"] == "alice"
    status, data, _ = call("post", "/api/papers/submit", people["bob"], {"id": "2501.00002"})
    assert (status, data["code"]) == (409, "duplicate")
    status, data, _ = call("post", "/api/papers/submit", people["bob"], {"id": "not an id"})
    assert (status, data["code"]) == (400, "invalid_id")


def test_upvote_and_take_back_keep_one_vote_per_account(people):
    for _ in range(2):
        status, data, _ = call("post", "/api/papers/2501.00001/upvote", people["alice"])
        assert status == 200 and data == {"id": "2501.00001", "upvotes": 1, "voted": True}
    assert call("post", "/api/papers/2501.00001/upvote", people["bob"])[1]["upvotes"] == 2
    status, data, _ = call("delete", "/api/papers/2501.00001/upvote", people["alice"])
    assert data == {"id": "2501.00001", "upvotes": 1, "voted": False}
    assert Vote.objects.filter(paper__arxiv_id="2501.00001").count() == Paper.objects.get(arxiv_id="2501.00001").upvotes == 1


def test_voting_on_an_unknown_paper_is_a_404(people):
    status, data, _ = call("post", "/api/papers/2501.09999/upvote", people["alice"])
    assert (status, data["code"]) == (404, "not_found")


def test_comments_are_listed_anonymously_and_posted_with_a_token(people):
    status, first, _ = call("post", "/api/papers/2501.00001/comments", people["alice"], {"body": "Nice **result**"})
    assert status == 201 and first["author"]["user"] == "alice" and "<strong>result</strong>" in first["html"]
    status, reply, _ = call("post", "/api/papers/2501.00001/comments", people["bob"],
                            {"body": "Agreed", "parentId": first["id"]})
    assert status == 201 and reply["parentId"] == first["id"]
    status, listed, _ = call("get", "/api/papers/2501.00001/comments")
    assert status == 200 and [c["id"] for c in listed] == [first["id"], reply["id"]]
    assert Paper.objects.get(arxiv_id="2501.00001").num_comments == 2


def test_a_reply_to_a_comment_on_another_paper_is_a_404(people):
    _, first, _ = call("post", "/api/papers/2501.00001/comments", people["alice"], {"body": "here"})
    status, data, _ = call("post", "/api/papers/2501.00002/comments", people["bob"], {"body": "x", "parentId": first["id"]})
    assert (status, data["code"]) == (404, "not_found")


def test_an_empty_comment_is_a_400_with_a_reason(people):
    status, data, _ = call("post", "/api/papers/2501.00001/comments", people["alice"], {"body": ""})
    assert status == 400 and data["code"] == "invalid_parameter" and "body" in data["error"]


def test_hostile_markdown_through_the_api_comes_back_sanitised(people):
    body = "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    _, data, _ = call("post", "/api/papers/2501.00001/comments", people["alice"], {"body": body})
    assert "<script" not in data["html"] and "javascript:" not in data["html"] and "onerror" not in data["html"]


def test_writes_are_rate_limited_with_429_json_and_retry_after(people, settings):
    settings.PAPERBOARD_RATELIMIT_ENABLED = True
    from paperboard.ratelimit import LIMITS

    limit = LIMITS["comment"][0]
    statuses = [call("post", "/api/papers/2501.00001/comments", people["alice"], {"body": f"c{i}"})
                for i in range(limit + 1)]
    assert [s for s, _, _ in statuses[:limit]] == [201] * limit
    status, data, response = statuses[-1]
    assert status == 429 and data["code"] == "rate_limited" and int(response["Retry-After"]) >= 1
