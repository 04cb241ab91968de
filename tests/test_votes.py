"""Upvotes: the toggle, the htmx fragment and the no-JS form, login and bans, and exact counts under concurrency."""

from __future__ import annotations

import http.client
import re
import threading
import urllib.parse
from http.cookies import SimpleCookie

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from paperboard.community import votes
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper, Vote
from tests.conftest import as_user, make_paper, make_user, put_on_feed


def fresh(paper: Paper) -> Paper:
    return Paper.objects.get(pk=paper.pk)


@pytest.fixture
def paper(db):
    p = make_paper("2501.00001", "Attention is still all you need")
    put_on_feed(p, "2025-01-10", votes=2)
    return fresh(p)


@pytest.fixture
def ann(db):
    return make_user("ann")


# ---- votes.py ---------------------------------------------------------------------------------------------


def test_an_upvote_adds_one_vote_and_counts_it_once(paper, ann):
    before = freshness.data_version()
    assert votes.upvote(ann, paper) is True
    assert votes.upvote(ann, paper) is False  # one vote per account
    assert fresh(paper).upvotes == 3 and Vote.objects.filter(paper=paper, user=ann).count() == 1
    assert freshness.data_version() == before + 1


def test_taking_a_vote_back_removes_it_once(paper, ann):
    votes.upvote(ann, paper)
    assert votes.unvote(ann, paper) is True
    assert votes.unvote(ann, paper) is False  # nothing left to take back
    assert fresh(paper).upvotes == 2 and not Vote.objects.filter(paper=paper, user=ann).exists()


def test_banned_inactive_and_anonymous_accounts_cannot_vote(paper):
    from django.contrib.auth.models import AnonymousUser

    for user, code in [(make_user("bad", banned=True), "banned"), (make_user("gone", active=False), "inactive"),
                       (AnonymousUser(), "login_required")]:
        with pytest.raises(Refused) as exc:
            votes.upvote(user, paper)
        assert exc.value.code == code
    assert fresh(paper).upvotes == 2 and Vote.objects.filter(paper=paper).count() == 2


# ---- POST /papers/<id>/upvote -----------------------------------------------------------------------------

URL = "/papers/2501.00001/upvote"


def test_the_button_toggles_the_vote_on_and_off_and_redirects_back_without_js(client, paper, ann):
    client.force_login(ann)
    r = client.post(URL, {"next": "/papers/date/2025-01-10"})
    assert r.status_code == 302 and r["Location"] == "/papers/date/2025-01-10"
    assert fresh(paper).upvotes == 3 and votes.has_voted(ann, paper)
    r = client.post(URL)
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00001"  # no next: the paper page
    assert fresh(paper).upvotes == 2 and not votes.has_voted(ann, paper)


def test_explicit_add_and_remove_are_idempotent(client, paper, ann):
    client.force_login(ann)
    client.post(URL, {"action": "add"})
    client.post(URL, {"action": "add"})
    assert fresh(paper).upvotes == 3
    client.post(URL, {"action": "remove"})
    client.post(URL, {"action": "remove"})
    assert fresh(paper).upvotes == 2


def test_next_must_stay_on_this_site(client, paper, ann):
    client.force_login(ann)
    r = client.post(URL, {"next": "https://evil.example/phish"})
    assert r["Location"] == "/papers/2501.00001"


def test_with_htmx_it_answers_the_fragment_with_the_new_count_and_state(client, paper, ann):
    client.force_login(ann)
    r = client.post(URL, {"action": "add", "next": "/papers/date/2025-01-10", "big": "1"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.lstrip().startswith("<form") and "<html" not in html
    assert '<span class="count">3</span> upvotes' in html  # the big variant, as it was posted
    assert 'aria-pressed="true"' in html and 'name="action" value="remove"' in html
    assert 'hx-post="/papers/2501.00001/upvote"' in html and 'hx-swap="outerHTML"' in html
    assert 'name="csrfmiddlewaretoken"' in html and 'name="next" value="/papers/date/2025-01-10"' in html
    r = client.post(URL, {"action": "remove"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert '<span class="count">2</span>' in html and 'aria-pressed="false"' in html
    assert 'name="action" value="add"' in html


def test_anonymous_visitors_are_sent_to_log_in_and_back(client, paper):
    r = client.post(URL, {"next": "/papers/date/2025-01-10"})
    assert r.status_code == 302 and r["Location"] == "/accounts/login?next=/papers/date/2025-01-10"
    r = client.post(URL, HTTP_HX_REQUEST="true")
    assert r.status_code == 401 and r["HX-Redirect"] == "/accounts/login?next=/papers/2501.00001"
    assert fresh(paper).upvotes == 2


def test_a_banned_account_is_refused_a_page_or_a_message_in_the_widget(client, paper):
    client.force_login(make_user("bad", banned=True))
    r = client.post(URL)
    assert r.status_code == 403 and "this account is banned" in r.content.decode().lower()
    r = client.post(URL, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and r["X-Refused"] == "banned"
    assert 'role="alert"' in r.content.decode() and '<span class="count">2</span>' in r.content.decode()
    assert fresh(paper).upvotes == 2


def test_voting_needs_a_post_and_a_known_visible_paper(client, paper, ann):
    client.force_login(ann)
    assert client.get(URL).status_code == 405
    assert client.post("/papers/2501.99999/upvote").status_code == 404
    Paper.objects.filter(pk=paper.pk).update(hidden=True)
    assert client.post(URL).status_code == 404


def test_a_version_in_the_url_votes_on_the_paper(client, paper, ann):
    client.force_login(ann)
    client.post("/papers/2501.00001v2/upvote", {"action": "add"})
    assert fresh(paper).upvotes == 3


def test_votes_are_rate_limited(client, paper, ann, settings, monkeypatch):
    from paperboard import ratelimit

    settings.PAPERBOARD_RATELIMIT_ENABLED = True
    monkeypatch.setitem(ratelimit.LIMITS, "vote", (3, 60))
    client.force_login(ann)
    assert [client.post(URL, {"action": "add"}).status_code for _ in range(4)] == [302, 302, 302, 429]


# ---- The vote widget in pages ----------------------------------------------------------------------------


def test_pages_show_which_papers_the_user_voted_on_with_one_query(client, paper, ann):
    other = make_paper("2501.00002", "Scaling laws for tiny models")
    put_on_feed(other, "2025-01-10", votes=1)
    third = make_paper("2501.00003", "A third paper")
    put_on_feed(third, "2025-01-10")
    votes.upvote(ann, other)
    client.force_login(ann)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/papers/date/2025-01-10").content.decode()
    assert len([q for q in queries if "papers_vote" in q["sql"]]) == 1
    cards = dict(re.findall(r'id="paper-([\d.]+)".*?aria-pressed="(true|false)"', html, re.DOTALL))
    assert cards == {"2501.00001": "false", "2501.00002": "true", "2501.00003": "false"}
    assert '<form class="vote-form" method="post" action="/papers/2501.00002/upvote"' in html
    paper_html = client.get("/papers/2501.00002").content.decode()
    assert 'aria-pressed="true"' in paper_html and 'name="big" value="1"' in paper_html


def test_anonymous_visitors_see_a_log_in_link_instead_of_a_form(client, paper):
    html = client.get("/papers/date/2025-01-10").content.decode()
    assert 'href="/accounts/login?next=/papers/date/2025-01-10" title="Log in to upvote"' in html
    assert "vote-form" not in html and '<span class="count">2</span>' in html


# ---- Concurrency, over real HTTP --------------------------------------------------------------------------

USERS = 24


class Browser:
    """One logged-in user talking HTTP to the live server: session cookie, CSRF cookie and form token."""

    def __init__(self, base_url: str, user) -> None:
        c = as_user(user)
        self.cookies = {django_settings.SESSION_COOKIE_NAME: c.cookies[django_settings.SESSION_COOKIE_NAME].value}
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.token = ""

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, text
        finally:
            conn.close()

    def open_paper(self, arxiv_id: str) -> str:
        status, html = self.request("GET", f"/papers/{arxiv_id}")
        assert status == 200
        self.token = re.search(r'<form class="vote-form".*?name="csrfmiddlewaretoken" value="([^"]+)"', html, re.DOTALL).group(1)
        return html

    def vote(self, arxiv_id: str, action: str, htmx: bool) -> int:
        headers = {"HX-Request": "true"} if htmx else {}
        status, _ = self.request("POST", f"/papers/{arxiv_id}/upvote",
                                 {"action": action, "csrfmiddlewaretoken": self.token}, headers)
        return status


def run_together(calls) -> list:
    """Start every call at the same moment, each in its own thread; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_over_http_keep_the_count_exact(live_server, settings):
    settings.PAPERBOARD_RATELIMIT_ENABLED = True
    # Django's test server listens with a backlog of 10 (WSGIServer.request_queue_size): 48 connections
    # opened at once overflow it and the kernel resets some. A production server listens with a deeper
    # queue (gunicorn: 2048); give the test server one too (on Linux, listen() again resizes the backlog).
    live_server.thread.httpd.socket.listen(256)
    p = make_paper("2501.00042", "A very popular paper")
    put_on_feed(p, "2025-01-10")
    Paper.objects.filter(pk=p.pk).update(imported_upvotes=5, upvotes=5)  # 5 carried over from an import
    browsers = [Browser(live_server.url, make_user(f"crowd{i}")) for i in range(USERS)]
    for b in browsers:
        b.open_paper("2501.00042")

    # Every user votes twice at the same moment (a double click), half of them through htmx.
    results = run_together([lambda b=b, i=i: b.vote("2501.00042", "add", htmx=i % 2 == 0)
                            for i, b in enumerate(browsers) for _ in range(2)])
    assert all(r in (200, 302) for r in results), results
    assert Vote.objects.filter(paper=p).count() == USERS
    assert fresh(p).upvotes == 5 + USERS

    # Half of them take their vote back, again twice each, at the same moment.
    leaving = browsers[: USERS // 2]
    results = run_together([lambda b=b, i=i: b.vote("2501.00042", "remove", htmx=i % 2 == 1)
                            for i, b in enumerate(leaving) for _ in range(2)])
    assert all(r in (200, 302) for r in results), results
    rows = Vote.objects.filter(paper=p).count()
    assert rows == USERS - USERS // 2
    assert fresh(p).upvotes == 5 + rows == 5 + 12
