"""No answer depends on the request's Host header: absolute URLs (the API's `Link` and `url`, feeds' links)
come from PAPERBOARD_BASE_URL, so one request naming another host cannot poison what the cache serves."""

import feedparser
import pytest

from tests.conftest import make_paper, put_on_feed

BASE = "https://papers.example.org"
OTHER_HOST = "localhost:6666"  # allowed (localhost on any port), so Django answers it


@pytest.fixture
def papers(db, settings):
    settings.BASE_URL = BASE
    for i in range(3):
        put_on_feed(make_paper(f"2501.0000{i}"), "2025-01-10")


def next_link(response):
    return response["Link"].split(">")[0].lstrip("<")


def test_the_next_link_of_the_paper_list_is_on_the_base_url_whatever_host_was_asked(client, papers):
    poisoner = client.get("/api/papers?limit=1", HTTP_HOST=OTHER_HOST)
    assert poisoner.status_code == 200
    assert next_link(poisoner).startswith(f"{BASE}/api/papers?cursor=")
    everyone = client.get("/api/papers?limit=1")
    assert next_link(everyone).startswith(f"{BASE}/api/papers?cursor=")
    assert everyone.json()[0]["url"] == f"{BASE}/papers/2501.00000"


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feed_links_are_on_the_base_url_whatever_host_was_asked(client, papers, fmt):
    client.get(f"/papers/feed.{fmt}?date=2025-01-10", HTTP_HOST=OTHER_HOST)
    doc = feedparser.parse(client.get(f"/papers/feed.{fmt}?date=2025-01-10").content)
    assert doc.entries and all(e.link.startswith(f"{BASE}/papers/") for e in doc.entries)
    assert doc.feed.link == f"{BASE}/papers/date/2025-01-10"
    assert "localhost" not in client.get(f"/papers/feed.{fmt}?date=2025-01-10").content.decode()


def test_the_json_feed_names_itself_on_the_base_url_whatever_host_was_asked(client, papers):
    client.get("/papers/feed.json", HTTP_HOST=OTHER_HOST)
    doc = client.get("/papers/feed.json").json()
    assert doc["feed_url"] == f"{BASE}/papers/feed.json"
    assert doc["home_page_url"] == f"{BASE}/papers"
