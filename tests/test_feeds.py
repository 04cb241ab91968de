"""Feeds of every view (RSS 2.0, Atom, JSON Feed): contents, escaping, dates, conditional GET, errors,
and the autodiscovery links on the pages. See docs/feeds.md."""

import datetime as dt
import html
import json
import re

import feedparser
import pytest
from django.core.cache import caches
from django.utils import timezone
from django.utils.http import parse_http_date

from paperboard.community import collections, votes
from paperboard.papers.models import Paper
from tests.conftest import as_user, make_paper, put_on_feed

SPECIAL_TITLE = 'Diffusion <models> & "friends" — naïve café, 論文'
SPECIAL_ABSTRACT = "Less < more & more > less; \"quoted\", 'single' & <b>not bold</b> — Zoë's ünïcödé 論文."
MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/feed+json"}
XML_FORMATS = ("atom", "rss")


BASE = "https://papers.example.org"  # PAPERBOARD_BASE_URL: every link in a feed is on it


@pytest.fixture
def board(db, settings, alice):
    """Four papers on the feed: two on 2025-01-10 (b has more votes), one on 01-08, one in December."""
    settings.BASE_URL = BASE
    settings.PAPERBOARD_SEARCH_FETCH_UNKNOWN = False
    settings.PAPERBOARD_SEMANTIC_LIVE_EMBED = False
    a = make_paper("2501.00001", "Attention is still all you need", categories=("cs.LG", "cs.CL"),
                   published="2025-01-05")
    b = make_paper("2501.00002", SPECIAL_TITLE, authors=("Zoë Müller", "Ada Lovelace"), categories=("cs.CV",),
                   published="2025-01-06", updated_at=dt.datetime(2025, 1, 9, 12, tzinfo=dt.UTC))
    Paper.objects.filter(pk=b.pk).update(abstract=SPECIAL_ABSTRACT)
    c = make_paper("2501.00003", "A paper from the day before", authors=("Alan Turing",),
                   published="2025-01-07")
    d = make_paper("2412.00004", "A paper from last month", categories=("cs.CL",), published="2024-12-15")
    put_on_feed(a, "2025-01-10", user=alice, votes=3)
    put_on_feed(b, "2025-01-10", votes=7)
    put_on_feed(c, "2025-01-08", votes=1)
    put_on_feed(d, "2024-12-20", votes=2)
    return {p.arxiv_id: Paper.objects.get(pk=p.pk) for p in (a, b, c, d)}


def parsed(response):
    assert response.status_code == 200, response.content[:300]
    doc = feedparser.parse(response.content)
    assert not doc.bozo, doc.get("bozo_exception")
    return doc


def json_feed(response):
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content.decode("utf-8"))


def ids(fmt, response):
    if fmt == "json":
        return [i["id"] for i in json_feed(response)["items"]]
    return [e.id for e in parsed(response).entries]


def arxiv(*arxiv_ids):
    return [f"https://arxiv.org/abs/{i}" for i in arxiv_ids]


def page_url(arxiv_id):
    return f"{BASE}/papers/{arxiv_id}"


def rfc3339(text):
    assert text.endswith("Z"), text
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- What the feeds hold -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_it_serves_each_format_with_its_media_type_in_utf8(client, board, fmt):
    r = client.get(f"/papers/feed.{fmt}")
    assert r.status_code == 200
    assert r["Content-Type"] == f"{MEDIA_TYPES[fmt]}; charset=utf-8"
    if fmt != "json":
        assert r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_it_lists_the_latest_day_most_upvoted_first_with_ids_links_and_titles(client, board, fmt):
    doc = parsed(client.get(f"/papers/feed.{fmt}"))
    assert [e.id for e in doc.entries] == arxiv("2501.00002", "2501.00001")
    assert [e.link for e in doc.entries] == [page_url("2501.00002"), page_url("2501.00001")]
    assert [e.title for e in doc.entries] == [SPECIAL_TITLE, "Attention is still all you need"]
    assert [t.term for t in doc.entries[1].tags] == ["cs.LG", "cs.CL"]
    assert doc.feed.title == "Daily Papers · Paperboard"
    assert doc.feed.link == f"{BASE}/papers"


@pytest.mark.parametrize("query, expected", [
    ("date=2025-01-08", ["2501.00003"]),
    ("week=2025-W02", ["2501.00002", "2501.00001", "2501.00003"]),
    ("month=2024-12", ["2412.00004"]),
    ("date=2025-01-09", []),
])
@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_it_follows_the_day_week_or_month_of_the_page_in_its_order(client, board, fmt, query, expected):
    assert ids(fmt, client.get(f"/papers/feed.{fmt}?{query}")) == arxiv(*expected)


def test_it_titles_the_feed_after_its_view_and_links_to_itself_and_the_page(client, board):
    doc = parsed(client.get("/papers/feed.atom?week=2025-W02"))
    assert doc.feed.title == "Weekly Papers — Week 2 of 2025 (Jan 6 – Jan 12) · Paperboard"
    links = {link.rel: link.href for link in doc.feed.links}
    assert links == {"self": f"{BASE}/papers/feed.atom?week=2025-W02",
                     "alternate": f"{BASE}/papers/week/2025-W02"}
    rss = parsed(client.get("/papers/feed.rss?week=2025-W02"))
    assert rss.feed.title == doc.feed.title and rss.feed.link == f"{BASE}/papers/week/2025-W02"
    self_link = f'<atom:link href="{BASE}/papers/feed.rss?week=2025-W02" rel="self" '.encode()
    assert self_link + b'type="application/rss+xml"/>' in client.get("/papers/feed.rss?week=2025-W02").content


def test_its_links_are_on_the_base_url_whatever_host_was_asked(client, board):
    doc = parsed(client.get("/papers/feed.atom", HTTP_HOST="localhost"))
    assert doc.entries[0].link == f"{BASE}/papers/2501.00002"
    assert all(link.href.startswith(f"{BASE}/") for link in doc.feed.links)


def test_it_builds_a_json_feed_with_the_fields_json_feed_1_1_requires(client, board):
    doc = json_feed(client.get("/papers/feed.json?week=2025-W02"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"].startswith("Weekly Papers — Week 2 of 2025")
    assert doc["home_page_url"] == f"{BASE}/papers/week/2025-W02"
    assert doc["feed_url"] == f"{BASE}/papers/feed.json?week=2025-W02"
    assert len(doc["items"]) == 3
    for item in doc["items"]:
        assert {"id", "url", "title", "content_text", "date_published"} <= set(item)
        assert all(isinstance(item[k], str) for k in ("id", "url", "title", "content_text", "date_published"))
        rfc3339(item["date_published"])
        rfc3339(item["date_modified"])
    first = doc["items"][0]
    assert first["id"] == "https://arxiv.org/abs/2501.00002"
    assert first["url"] == page_url("2501.00002")
    assert first["external_url"] == "https://arxiv.org/abs/2501.00002"
    assert first["authors"] == [{"name": "Zoë Müller"}, {"name": "Ada Lovelace"}]
    assert first["tags"] == ["cs.CV"]


def test_it_keeps_special_characters_through_every_format(client, board):
    assert Paper.objects.get(arxiv_id="2501.00002").title == SPECIAL_TITLE  # as stored by the import
    atom = parsed(client.get("/papers/feed.atom")).entries[0]
    assert (atom.title, atom.summary) == (SPECIAL_TITLE, SPECIAL_ABSTRACT)
    assert [a.name for a in atom.authors] == ["Zoë Müller", "Ada Lovelace"]
    rss = parsed(client.get("/papers/feed.rss")).entries[0]
    assert rss.title == SPECIAL_TITLE
    assert html.unescape(rss.summary) == SPECIAL_ABSTRACT  # an RSS description is HTML: the text is escaped
    item = json_feed(client.get("/papers/feed.json"))["items"][0]
    assert (item["title"], item["content_text"]) == (SPECIAL_TITLE, SPECIAL_ABSTRACT)


def test_it_escapes_markup_in_the_abstract_rather_than_passing_it_on(client, board):
    body = client.get("/papers/feed.rss").content.decode("utf-8")
    assert "&amp;lt;b&amp;gt;not bold&amp;lt;/b&amp;gt;" in body  # HTML-escaped, then XML-escaped
    assert "<b>" not in body
    atom = client.get("/papers/feed.atom").content.decode("utf-8")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in atom and "<b>" not in atom


def test_it_dates_items_in_rfc_822_for_rss_and_rfc_3339_for_atom_and_json(client, board):
    rss = client.get("/papers/feed.rss").content.decode()
    assert "<pubDate>Mon, 06 Jan 2025 00:00:00 GMT</pubDate>" in rss
    assert "</pubDate><atom:updated>2025-01-09T12:00:00Z</atom:updated>" in rss
    assert re.search(r"<lastBuildDate>\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT</lastBuildDate>", rss)
    atom = client.get("/papers/feed.atom").content.decode()
    assert "<published>2025-01-06T00:00:00Z</published><updated>2025-01-09T12:00:00Z</updated>" in atom
    entry = parsed(client.get("/papers/feed.atom")).entries[0]
    assert entry.published_parsed[:6] == (2025, 1, 6, 0, 0, 0)
    assert entry.updated_parsed[:6] == (2025, 1, 9, 12, 0, 0)
    item = json_feed(client.get("/papers/feed.json"))["items"][0]
    assert (item["date_published"], item["date_modified"]) == ("2025-01-06T00:00:00Z", "2025-01-09T12:00:00Z")


def test_an_empty_instance_has_an_empty_daily_feed(client, db):
    doc = parsed(client.get("/papers/feed.atom"))
    assert doc.entries == [] and doc.feed.title == "Daily Papers · Paperboard"
    assert json_feed(client.get("/papers/feed.json"))["items"] == []


# ---- Trending, topics, search, authors, collections --------------------------------------------------------


def test_the_trending_feed_ranks_like_the_trending_page(client, board):
    yesterday = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    put_on_feed(make_paper("2511.00010", "Fresh and popular"), yesterday, votes=4)
    put_on_feed(make_paper("2511.00011", "Fresh and quiet"), yesterday, votes=1, hour=8)
    page = client.get("/papers/trending.json").json()
    expected = [p["paper"]["id"] for p in page["papers"]]
    assert len(expected) == 2
    doc = parsed(client.get("/papers/trending/feed.atom"))
    assert [e.id for e in doc.entries] == arxiv(*expected)
    assert doc.feed.title == "Trending papers · Paperboard"


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_the_category_feed_holds_its_papers_the_most_recently_put_on_the_feed_first(client, board, fmt):
    r = client.get(f"/papers/category/cs.CL/feed.{fmt}")
    assert ids(fmt, r) == arxiv("2501.00001", "2412.00004")


def test_a_category_feed_is_titled_by_its_code_and_a_missing_category_is_404(client, board):
    assert parsed(client.get("/papers/category/cs.CL/feed.rss")).feed.title == "cs.CL papers · Paperboard"
    assert client.get("/papers/category/cs.XX/feed.atom").status_code == 404
    r = client.get("/papers/category/cs.cl/feed.json")
    assert r.status_code == 302 and r["Location"] == "/papers/category/cs.CL/feed.json"


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_the_search_feed_lists_the_search_pages_results(client, board, fmt):
    page = client.get("/papers/search.json", {"q": "paper"}).json()
    expected = [r["paper"]["id"] for r in page["results"]]
    assert len(expected) == 2
    assert ids(fmt, client.get(f"/papers/search/feed.{fmt}", {"q": "paper"})) == arxiv(*expected)


def test_the_search_feed_names_its_query_and_follows_the_pages_filters(client, board):
    doc = parsed(client.get("/papers/search/feed.atom", {"q": "paper", "sort": "newest"}))
    assert doc.feed.title == "Search: paper · Paperboard"
    assert [e.id for e in doc.entries] == arxiv("2501.00003", "2412.00004")  # published 01-07, then 12-15
    doc = parsed(client.get("/papers/search/feed.atom", {"q": "paper", "cat": "cs.CL"}))
    assert [e.id for e in doc.entries] == arxiv("2412.00004")
    special = parsed(client.get("/papers/search/feed.rss", {"q": '"friends" & <models>'}))
    assert special.feed.title == "Search: friends <models> · Paperboard"  # the query as the page applies it
    assert [e.id for e in special.entries] == arxiv("2501.00002")


def test_the_search_feed_of_an_empty_query_is_empty(client, board):
    assert parsed(client.get("/papers/search/feed.atom")).entries == []


@pytest.mark.parametrize("name, expected", [
    ("Ada Lovelace", ["2501.00002", "2501.00001", "2412.00004"]),  # newest first
    ("zoë müller", ["2501.00002"]),
    ("Turing", ["2501.00003", "2501.00001", "2412.00004"]),
    ("Nobody Here", []),
])
def test_the_author_feed_lists_the_papers_whose_author_matches_newest_first(client, board, name, expected):
    r = client.get("/papers/author/feed.atom", {"name": name})
    assert ids("atom", r) == arxiv(*expected)


def test_the_author_feed_names_the_author_and_wants_a_name(client, board):
    doc = parsed(client.get("/papers/author/feed.rss", {"name": "Alan  Turing "}))
    assert doc.feed.title == "Papers by Alan Turing · Paperboard"
    assert client.get("/papers/author/feed.atom").status_code == 400
    assert client.get("/papers/author/feed.atom", {"name": "   "}).status_code == 400


def test_a_public_collection_has_a_feed_of_its_papers_most_recently_added_first(client, board, alice):
    col = collections.create(alice, "Best of 2025 & more", public=True)
    collections.add(alice, col, board["2501.00003"])
    collections.add(alice, col, board["2501.00002"])
    url = "/u/alice/collections/best-of-2025-more/feed.atom"
    doc = parsed(client.get(url))
    assert [e.id for e in doc.entries] == arxiv("2501.00002", "2501.00003")
    assert doc.feed.title == "Best of 2025 & more — a collection by alice · Paperboard"
    assert doc.feed.link == f"{BASE}/u/alice/collections/best-of-2025-more"
    before = client.get(url)["ETag"]
    collections.add(alice, col, board["2501.00001"])
    assert client.get(url)["ETag"] != before
    assert client.get(url, HTTP_IF_NONE_MATCH=before).status_code == 200


def test_a_private_collection_has_no_feed_not_even_for_its_owner(client, board, alice):
    col = collections.create(alice, "Secret stash")
    collections.add(alice, col, board["2501.00001"])
    for fmt in ("atom", "rss", "json"):
        assert client.get(f"/u/alice/collections/secret-stash/feed.{fmt}").status_code == 404
    owner = as_user(alice)
    assert owner.get("/u/alice/collections/secret-stash").status_code == 200
    assert owner.get("/u/alice/collections/secret-stash/feed.atom").status_code == 404
    assert client.get("/u/alice/collections/no-such-thing/feed.atom").status_code == 404


# ---- Conditional GET ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_it_answers_304_with_no_body_to_a_matching_if_none_match(client, board, fmt):
    first = client.get(f"/papers/feed.{fmt}")
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    again = client.get(f"/papers/feed.{fmt}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get(f"/papers/feed.{fmt}", HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_it_answers_304_to_if_modified_since_its_last_modified(client, board):
    last_modified = client.get("/papers/feed.rss")["Last-Modified"]
    r = client.get("/papers/feed.rss", HTTP_IF_MODIFIED_SINCE=last_modified)
    assert r.status_code == 304 and r.content == b"" and r["Last-Modified"] == last_modified
    long_ago = "Wed, 01 Jan 2020 00:00:00 GMT"
    assert client.get("/papers/feed.rss", HTTP_IF_MODIFIED_SINCE=long_ago).status_code == 200


def test_its_validators_are_the_same_built_afresh_cached_or_logged_in(client, board, alice):
    first = client.get("/papers/feed.atom")
    cached = client.get("/papers/feed.atom")
    caches["responses"].clear()
    fresh = client.get("/papers/feed.atom")
    reader = as_user(alice)
    logged_in = reader.get("/papers/feed.atom")
    assert {r["ETag"] for r in (first, cached, fresh, logged_in)} == {first["ETag"]}
    assert {r["Last-Modified"] for r in (first, cached, fresh, logged_in)} == {first["Last-Modified"]}
    assert fresh.content == first.content == logged_in.content


def test_a_new_upvote_changes_the_etag_even_when_the_order_stays(client, board, alice):
    before = client.get("/papers/feed.atom")
    votes.upvote(alice, board["2501.00001"])  # 3 -> 4 votes: still second, after 7
    after = client.get("/papers/feed.atom")
    assert [e.id for e in parsed(after).entries] == [e.id for e in parsed(before).entries]
    assert after["ETag"] != before["ETag"]
    assert client.get("/papers/feed.atom", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    assert client.get("/papers/feed.atom", HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_new_paper_on_the_feed_changes_the_etag_and_last_modified_moves_on(client, board):
    before = client.get("/papers/feed.json?date=2025-01-10")
    put_on_feed(make_paper("2501.00009", "Late arrival"), "2025-01-10", votes=1)
    after = client.get("/papers/feed.json?date=2025-01-10")
    assert "https://arxiv.org/abs/2501.00009" in [i["id"] for i in json_feed(after)["items"]]
    assert after["ETag"] != before["ETag"]
    stale = client.get("/papers/feed.json?date=2025-01-10", HTTP_IF_NONE_MATCH=before["ETag"])
    assert stale.status_code == 200
    assert parse_http_date(after["Last-Modified"]) >= parse_http_date(before["Last-Modified"])


# ---- Bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, value", [("date", "2025-02-30"), ("date", "yesterday"), ("week", "2025-W60"),
                                         ("month", "2025-13")])
def test_a_bad_period_is_a_400_as_on_the_page(client, board, kind, value):
    r = client.get("/papers/feed.atom", {kind: value})
    assert r.status_code == 400 and r["Content-Type"] == "text/plain; charset=utf-8"
    assert client.get(f"/papers/{kind}/{value}").status_code == 400  # the page refuses it the same way


def test_two_periods_at_once_are_a_400(client, board):
    r = client.get("/papers/feed.rss", {"date": "2025-01-10", "week": "2025-W02"})
    assert r.status_code == 400 and b"not date and week" in r.content


@pytest.mark.parametrize("url", [
    "/papers/search/feed.atom?q=%00%01%02control",
    "/papers/search/feed.rss?q=" + "x" * 600,
    "/papers/search/feed.json?q=author:%22%22&cat=%25&from=nope&to=2025-99-99&p=-3&sort=odd&mode=odd",
    "/papers/author/feed.rss?name=%25_%5C",
    "/papers/feed.json?date=&week=&p=x",
    "/papers/category/a-b.c-d/feed.atom",
])
def test_odd_input_never_makes_a_500(client, board, url):
    assert client.get(url).status_code < 500


def test_a_feed_answers_head_and_refuses_post(client, board):
    assert client.head("/papers/feed.atom").status_code == 200
    assert client.post("/papers/feed.atom").status_code == 405


# ---- Autodiscovery -----------------------------------------------------------------------------------------


def alternates(page_html):
    """(type, href) of each feed the page's <head> names."""
    head = page_html.split("</head>")[0]
    tag = r'<link rel="alternate" type="(application/[a-z+]+)" title="[^"]+" href="([^"]+)">'
    found = re.findall(tag, head)
    return {(t, html.unescape(href)) for t, href in found if t != "application/json"}


def feeds_at(path, query=""):
    query = f"?{query}" if query else ""
    return {(MEDIA_TYPES[ext], f"{path}.{ext}{query}") for ext in ("atom", "rss", "json")}


@pytest.mark.parametrize("page, feed", [
    ("/papers", feeds_at("/papers/feed")),
    ("/papers/date/2025-01-08", feeds_at("/papers/feed", "date=2025-01-08")),
    ("/papers/week/2025-W02", feeds_at("/papers/feed", "week=2025-W02")),
    ("/papers/month/2024-12", feeds_at("/papers/feed", "month=2024-12")),
    ("/papers/trending", feeds_at("/papers/trending/feed")),
    ("/papers/category/cs.CL", feeds_at("/papers/category/cs.CL/feed")),
    ("/papers/search?q=paper&sort=newest&p=1", feeds_at("/papers/search/feed", "q=paper&sort=newest")),
    ("/papers/2501.00001", feeds_at("/papers/feed")),  # no feed of its own: the daily one
    ("/papers/no-such-page", feeds_at("/papers/feed")),
])
def test_every_page_names_its_own_views_feed_in_its_head(client, board, page, feed):
    r = client.get(page)
    assert alternates(r.content.decode()) == feed
    for _media_type, url in feed:
        assert client.get(url).status_code == 200


def test_a_public_collection_page_names_its_feed_and_a_private_one_only_the_daily_one(client, board, alice):
    public = collections.create(alice, "Open list", public=True)
    collections.add(alice, public, board["2501.00001"])
    collections.create(alice, "Closed list")
    assert alternates(client.get("/u/alice/collections/open-list").content.decode()) == \
        feeds_at("/u/alice/collections/open-list/feed")
    owner = as_user(alice)
    private_page = owner.get("/u/alice/collections/closed-list").content.decode()
    assert alternates(private_page) == feeds_at("/papers/feed")


def test_the_autodiscovery_titles_name_the_view_and_the_format(client, board):
    head = client.get("/papers/week/2025-W02").content.decode().split("</head>")[0]
    assert 'title="Weekly Papers — Week 2 of 2025 (Jan 6 – Jan 12) (Atom)"' in head
    assert 'title="Weekly Papers — Week 2 of 2025 (Jan 6 – Jan 12) (JSON Feed)"' in head
