"""Hostile input sent to every public surface: nothing answers 500, and the API's errors are JSON.

A growing corpus: add a string here when a new one is found to break something. The same tests run on
SQLite and PostgreSQL (PAPERBOARD_DATABASE_URL); PostgreSQL is the one that refuses a NUL in text.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from paperboard.community import collections, comments, moderation, rules
from paperboard.community.models import Comment
from paperboard.digests import links as digest_links
from paperboard.search import query as querylang
from paperboard.web_guard import MESSAGE
from tests.conftest import api_token, bearer, make_paper, put_on_feed
from tests.digests_support import subscriber

SURROGATE = "%ED%A0%80"  # a lone surrogate (U+D800) as UTF-8 bytes, URL-encoded: no valid text decodes to it

EDGE_DATES = [
    "year:9999", "before:9999-12-31", "after:0001-01-01", "year:0", "year:0000", "year:10000", "before:2025-02-30",
    "after:9999-12-31", "before:0001-01-01", "after:9999", "before:9999", "before:0001", "after:9999-12",
    "before:9999-12", "after:0001-01", "since:9999-12-31 until:0001-01-01", "year:9999 after:0001-01-01",
    "after:99999999999999999999-1-1", "year:99999999999999999999", "before:2025-00-00", "after:2025-13-01",
    "year:-1", "before:-0001-01-01", "after:٢٠٢٥-٠١-٠١", "year:２０２５", "before:9999-12-31 -x attention",
]
QUERY_LANGUAGE = [
    "author:", 'author:""', "author:-", "au:", "cat:", "cat:..", "cat:cs.*", "cat:%", "cat:_", "cat:cs.LG)",
    "cat:\\", "cat:" + "a" * 100, "cat:a.b.c", "has:", ":", "::", "-", "- -", "--", '-"', "---x", '"', '"""',
    '"a', 'a"', 'author:"', 'cat:"cs', "AND", "OR", "NOT", "NEAR", "AND OR NOT", '"*:^()NEAR AND OR', "*", "^",
    "()", "(", ")", "a*", "NEAR(a b, 2)", "title:x", "{title}:x", "col:umn", "'; DROP TABLE papers_paper; --",
    "%", "_", "\\", "a" * 5000, "9" * 400, "x " * 600, "q" * 100_000,
]
ODD_UNICODE = [
    "\u202eattention", "\ufeff", "\u200b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "e\u0301", "ﬁ", "İ", "ß", "\U0001f600", "\u3000",
    "\ufffd", "\uffff", "\U0010ffff", "中文 检索", "\x01\x1f\x7f", "\r\n\t",
]
HOSTILE = EDGE_DATES + QUERY_LANGUAGE + ODD_UNICODE
EDGE_FILTER_DATES = ["9999-12-31", "0001-01-01", "0000-01-01", "10000-01-01", "2025-02-30", "9" * 50]

SEARCH_URLS = [
    "/papers/search", "/papers/search.json", "/papers/search?format=json", "/api/papers/search",
    "/papers/search/suggest", "/papers/search/feed.rss", "/papers/search/feed.atom", "/papers/search/feed.json",
]

NOT_IDS = ["9999.99999", "0000.00000", "1234.5678v0", "2513.00001", "1412.12345"]  # the routes match; arXiv never
IMPOSSIBLE_IDS = [*NOT_IDS, "hep-th/9999999"]  # and one well-formed that is not here (submitting it asks arXiv)
PAPER_POSTS = ["comments", "upvote", "claim", "links", "collect", "uncollect"]


@pytest.fixture
def world(db, settings, alice):
    settings.PAPERBOARD_SEARCH_FETCH_UNKNOWN = False
    settings.PAPERBOARD_SEMANTIC_LIVE_EMBED = False
    settings.PAPERBOARD_RATELIMIT_ENABLED = False
    paper = make_paper("2501.00001", "Sparse attention for long documents", published="2025-01-10")
    make_paper("2501.00002", "Recurrent attention, revisited", published="2024-06-01")
    put_on_feed(paper, "2025-01-10")
    return {"paper": paper, "alice": alice, "token": api_token(alice)}


def answered(response, url: str):
    """`response` is not a server error; an API error is JSON with a code."""
    assert response.status_code < 500, (url, response.status_code)
    if url.startswith("/api/") and response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), url
        assert response.json()["code"], url
    return response


def get(client, url: str, query: str):
    """GET `url` with `query` (already URL-encoded) appended to its query string."""
    full = f"{url}{'&' if '?' in url else '?'}{query}"
    return answered(client.get(full), full)


def post_form(client, url: str, data: dict, *, raw: dict | None = None):
    """POST a urlencoded form; `raw` values go in as given (already URL-encoded)."""
    body = "&".join(filter(None, [urlencode(data), "&".join(f"{k}={v}" for k, v in (raw or {}).items())]))
    return answered(client.post(url, body, content_type="application/x-www-form-urlencoded"), url)


def api(method: str, url: str, token: str | None, body: bytes | str | None = None):
    r = getattr(Client(), method)(url, data=body, content_type="application/json", **bearer(token))
    return answered(r, url)


# ---- search: the query language, on every surface ----------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: ascii(t)[:40])
def test_hostile_queries_never_give_a_500_on_any_search_surface(client, world, text):
    for url in SEARCH_URLS:
        get(client, url, urlencode({"q": text}))
    get(client, "/papers/search", urlencode({"q": text, "from": "0001-01-01", "to": "9999-12-31"}))


@pytest.mark.parametrize("value", EDGE_FILTER_DATES)
def test_edge_dates_in_the_search_forms_date_fields_never_give_a_500(client, world, value):
    for url in ("/papers/search", "/papers/search.json", "/papers/search/feed.atom"):
        get(client, url, urlencode({"q": "attention", "from": value}))
        get(client, url, urlencode({"q": "attention", "to": value}))


def test_dates_at_the_ends_of_the_calendar_are_clamped_and_filter_nothing_out(client, world):
    for text in ("attention before:9999-12-31", "attention after:0001-01-01", "attention after:0001 before:9999"):
        data = get(client, "/papers/search.json", urlencode({"q": text})).json()
        assert {x["paper"]["id"] for x in data["results"]} == {"2501.00001", "2501.00002"}, text
    data = get(client, "/papers/search.json", urlencode({"q": "attention before:9999-12-31"})).json()
    assert data["parsed"]["before"] == querylang.LATEST.isoformat() == "9999-12-30"
    data = get(client, "/papers/search.json", urlencode({"q": "attention after:0001-01-01"})).json()
    assert data["parsed"]["after"] == querylang.EARLIEST.isoformat() == "0001-01-02"
    api_items = get(client, "/api/papers/search", urlencode({"q": "attention year:9999"})).json()
    assert api_items == []


def test_the_parser_only_produces_bounds_a_day_can_be_added_to():
    for text in EDGE_DATES:
        q = querylang.parse(text)
        for bound in (q.after, q.before):
            assert bound is None or querylang.EARLIEST <= bound <= querylang.LATEST, text
            if bound:
                bound + dt.timedelta(days=1) - dt.timedelta(days=2)  # noqa: B018 (must not overflow)
    assert querylang.parse("year:9999").before == dt.date(9999, 12, 30)
    assert querylang.parse("before:2025-02-30").before is None  # not a date: read as words
    assert querylang.parse("year:2024").after == dt.date(2024, 1, 1)  # ordinary dates are untouched


def test_a_lone_surrogate_in_a_search_query_string_is_not_an_error(client, world):
    for url in SEARCH_URLS:
        get(client, url, f"q={SURROGATE}")
        get(client, url, f"q=a{SURROGATE}b&cat={SURROGATE}&from={SURROGATE}")


# ---- feed periods and page numbers at the ends of the calendar ---------------------------------------------

EDGE_PERIODS = [("date", "9999-12-31"), ("date", "0001-01-01"), ("week", "9999-W52"), ("week", "0001-W01"),
                ("month", "9999-12"), ("month", "0001-01"), ("date", "0000-01-01"), ("week", "2025-W99")]


@pytest.mark.parametrize("kind,value", EDGE_PERIODS)
def test_a_period_at_the_end_of_the_calendar_is_a_400_everywhere(client, world, kind, value):
    for url in (f"/papers/{kind}/{value}", f"/papers/{kind}/{value}.json", f"/papers/feed.atom?{kind}={value}",
                f"/papers/feed.json?{kind}={value}", f"/api/daily_papers?{kind}={value}"):
        assert get(client, url, "").status_code == 400, url


def test_periods_just_inside_the_calendar_are_ordinary_empty_pages(client, world):
    for url in ("/papers/date/9998-12-31", "/papers/week/9998-W52.json", "/papers/month/0002-01",
                "/papers/feed.json?month=9998-12", "/api/daily_papers?date=0002-01-01"):
        assert get(client, url, "").status_code == 200, url


def test_a_huge_page_number_is_an_empty_page_not_an_error(client, world):
    for url in ("/papers", "/papers.json", "/papers/date/2025-01-10", "/papers/trending", "/papers/trending.json",
                "/papers/search", "/for-you", "/papers/trending/feed.rss?date=9999-12-31&"):
        assert get(client, url, "p=" + "9" * 40).status_code in (200, 302), url
    assert get(client, "/papers.json", "p=" + "9" * 40).json()["papers"] == []


# ---- impossible arXiv ids, on every route that takes one ---------------------------------------------------


@pytest.mark.parametrize("arxiv_id", IMPOSSIBLE_IDS)
def test_an_impossible_paper_id_is_a_404_page_never_a_500(client, world, arxiv_id):
    r = get(client, f"/papers/{arxiv_id}", "")
    assert r.status_code == 404 and b"not found" in r.content.lower()
    for url in (f"/papers/{arxiv_id}.json", f"/papers/{arxiv_id}?format=json"):
        r = get(client, url, "")
        assert r.status_code == 404 and r.json()["code"] == "not_found", url
    assert get(client, f"/papers/{arxiv_id}.md", "").status_code == 404


@pytest.mark.parametrize("arxiv_id", IMPOSSIBLE_IDS)
def test_posts_to_an_impossible_paper_id_are_404s_for_everyone(client, alice_client, world, arxiv_id):
    for who in (client, alice_client):
        for action in PAPER_POSTS:
            url = f"/papers/{arxiv_id}/{action}"
            r = post_form(who, url, {"body": "hi", "author_name": "Ada", "new_name": "x", "collection": "x"})
            assert r.status_code == 404, (url, r.status_code)


@pytest.mark.parametrize("arxiv_id", [*IMPOSSIBLE_IDS, "1" * 5000, "%00"])
def test_impossible_ids_get_json_errors_from_the_api_and_no_500_anywhere(client, world, arxiv_id):
    for suffix in ("", "/similar", "/comments"):
        r = api("get", f"/api/papers/{arxiv_id}{suffix}", None)
        assert r.status_code in (400, 404), suffix
    for method, suffix in (("post", "/upvote"), ("delete", "/upvote"), ("post", "/comments")):
        r = api(method, f"/api/papers/{arxiv_id}{suffix}", world["token"], json.dumps({"body": "hi"}))
        assert r.status_code in (400, 404), (method, suffix)
    assert get(client, f"/papers/{arxiv_id}", "").status_code in (302, 404)


@pytest.mark.parametrize("arxiv_id", [*NOT_IDS, "1" * 5000, "%00"])
def test_submitting_an_impossible_id_is_refused_with_a_400(alice_client, world, arxiv_id):
    r = api("post", "/api/papers/submit", world["token"], json.dumps({"id": arxiv_id}))
    assert r.status_code == 400 and r.json()["code"] == "invalid_id"
    assert post_form(alice_client, "/papers/submit", {"id": arxiv_id}).status_code == 400


def test_odd_versions_of_a_real_paper_are_that_paper(client, world):
    for version in ("v0", "v99999999999999999999"):
        assert get(client, f"/papers/2501.00001{version}", "")["Location"] == "/papers/2501.00001"
        assert get(client, f"/papers/2501.00001{version}.json", "").json()["id"] == "2501.00001"
        assert api("get", f"/api/papers/2501.00001{version}", None).json()["id"] == "2501.00001"


# ---- text no database can store: NUL and lone surrogates ---------------------------------------------------


def write_forms(world) -> list[tuple[str, dict]]:
    """Every form a user fills in, with a valid value in each field (the tests spoil one)."""
    paper, alice = world["paper"], world["alice"]
    comment = comments.post(alice, paper, "first!")
    collection = collections.create(alice, "Reading list")
    subscription = subscriber("ada@example.org")
    return [
        (f"/papers/{paper.arxiv_id}/comments", {"body": "A fine paper."}),
        (f"/comments/{comment.pk}/edit", {"body": "An edited comment."}),
        (f"/papers/{paper.arxiv_id}/claim", {"author_name": "Ada Lovelace"}),
        (f"/papers/{paper.arxiv_id}/links", {"github_repo": "https://github.com/a/b", "project_page": ""}),
        (f"/papers/{paper.arxiv_id}/collect", {"new_name": "Favourites"}),
        (f"/u/alice/collections/{collection.slug}/edit", {"name": "Reading", "description": "Mine."}),
        ("/flags", {"kind": "comment", "target": str(comment.pk), "reason": "Off topic."}),
        ("/papers/submit", {"id": "2501.00002", "note": "Worth a read."}),
        ("/accounts/settings", {"full_name": "Ada", "bio": "I compute."}),
        ("/accounts/settings/tokens", {"name": "laptop"}),
        ("/accounts/signup", {"username": "ada", "email": "ada@example.org", "password": "x" * 12}),
        ("/accounts/login", {"login": "alice", "password": "correct horse battery"}),
        ("/accounts/password-reset", {"email": "alice@example.org"}),
        ("/digest/subscribe", {"email": "new@example.org"}),
        (f"/digest/preferences/{digest_links.manage_token(subscription)}",
         {"frequency": "weekly", "sections": "daily", "topics": "attention", "categories": "cs.LG",
          "max_papers": "10", "min_upvotes": "0"}),
        ("/admin/moderation/act", {"action": "hide_comment", "target": str(comment.pk), "reason": "Spam."}),
    ]


def test_a_nul_in_any_form_field_is_a_400_page_and_stores_nothing(alice_client, world):
    for url, data in write_forms(world):
        before = Comment.objects.count()
        for field in data:
            r = post_form(alice_client, url, {**data, field: data[field] + "\x00"})
            assert r.status_code == 400 and MESSAGE in r.content.decode(), (url, field, r.status_code)
        r = post_form(alice_client, url, {**data, "x\x00": "1"})  # a field name counts too
        assert r.status_code == 400, url
        assert Comment.objects.count() == before, url


def test_a_lone_surrogate_in_a_form_field_is_never_a_500(alice_client, world):
    for url, data in write_forms(world):
        for field in data:
            post_form(alice_client, url, {k: v for k, v in data.items() if k != field}, raw={field: SURROGATE})


def test_a_nul_in_a_comment_is_refused_on_the_site_and_the_api(alice_client, world):
    paper = world["paper"]
    r = post_form(alice_client, f"/papers/{paper.arxiv_id}/comments", {"body": "hello\x00world"})
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")
    r = api("post", f"/api/papers/{paper.arxiv_id}/comments", world["token"], json.dumps({"body": "hello\x00world"}))
    assert r.status_code == 400 and r.json() == {"error": MESSAGE, "code": "bad_request"}
    assert not Comment.objects.exists()


@pytest.mark.parametrize("body", [
    json.dumps({"body": "hello\x00"}), json.dumps({"body": "hello\ud800"}), json.dumps({"body\x00": "hi"}),
    json.dumps({"body": "hi", "parentId": None, "extra": ["\x00"]}), '{"body": "\\ud800\\udfff\\ud800"}',
])
def test_unstorable_text_in_an_api_body_is_a_json_400(world, body):
    paper = world["paper"]
    for url in (f"/api/papers/{paper.arxiv_id}/comments", "/api/papers/submit"):
        r = api("post", url, world["token"], body)
        assert r.status_code == 400 and r.json()["code"] == "bad_request", url
    assert not Comment.objects.exists()


@pytest.mark.parametrize("body", [b'{"body": "\xed\xa0\x80"}', b"\xff\xfe", b"\x00", b"{", b"[]", b'"x"', b"null"])
def test_a_malformed_api_body_is_a_json_4xx(world, body):
    api("post", f"/api/papers/{world['paper'].arxiv_id}/comments", world["token"], body)
    api("post", "/api/papers/submit", world["token"], body)


def test_a_nul_in_a_query_string_is_a_400_in_the_shape_the_surface_speaks(client, world):
    r = get(client, "/papers/search", "q=graph%00networks")
    assert r.status_code == 400 and MESSAGE in r.content.decode()
    for url in ("/api/papers/search", "/papers/search.json", "/papers/search?format=json"):
        r = get(client, url, "q=graph%00networks")
        assert r.status_code == 400 and r.json() == {"error": MESSAGE, "code": "bad_request"}, url
    for url in SEARCH_URLS:
        assert get(client, url, "q=%00").status_code == 400, url
        assert get(client, url, "q=ok&%00=1").status_code == 400, url


def test_the_services_that_store_text_strip_nul_and_lone_surrogates(world):
    paper, alice = world["paper"], world["alice"]
    assert comments.post(alice, paper, "hel\x00lo \ud800world").body == "hello world"
    c = collections.create(alice, "Rea\x00ding", description="mi\x00ne")
    assert (c.name, c.description) == ("Reading", "mine")
    assert moderation.flag(alice, "paper", paper.pk, "sp\x00am").reason == "spam"
    assert rules.check_note("no\x00te\ud800") == "note"
