"""The server-rendered feed and paper pages, and their JSON twins."""

import pytest

from tests.conftest import make_paper, put_on_feed


@pytest.fixture
def feed(db, alice):
    a = make_paper("2501.00001", "Attention is still all you need")
    b = make_paper("2501.00002", "Scaling laws for tiny models")
    c = make_paper("2501.00003", "A paper from the day before")
    d = make_paper("2412.00004", "A paper from last month", categories=("cs.CL",))
    put_on_feed(a, "2025-01-10", user=alice, votes=3)
    put_on_feed(b, "2025-01-10", votes=7)
    put_on_feed(c, "2025-01-08", votes=1)
    put_on_feed(d, "2024-12-20", votes=2)
    return a, b, c, d


def titles(html: str) -> list[str]:
    import re

    return re.findall(r'<h3><a href="/papers/[^"]+">([^<]+)</a></h3>', html)


def test_papers_shows_the_latest_day_ranked_by_upvotes(client, feed):
    r = client.get("/papers")
    assert r.status_code == 200
    html = r.content.decode()
    assert titles(html) == ["Scaling laws for tiny models", "Attention is still all you need"]
    assert 'rel="canonical" href="/papers/date/2025-01-10"' in html
    assert "submitted by alice" in html


def test_a_day_longer_than_a_page_is_split_into_pages_with_previous_and_next_links(client, feed, settings):
    settings.PAPERBOARD_FEED_PAGE_SIZE = 1
    first = client.get("/papers").content.decode()
    assert titles(first) == ["Scaling laws for tiny models"]
    assert '<a class="btn" href="?p=1">Next page →</a>' in first and "page 1 of 2" in first
    assert "Previous page" not in first
    second = client.get("/papers", {"p": 1}).content.decode()
    assert titles(second) == ["Attention is still all you need"]
    assert '<a class="btn" href="?p=0">← Previous page</a>' in second and "page 2 of 2" in second
    assert "Next page" not in second


def test_a_day_page_links_to_the_nearest_days_with_papers(client, feed):
    html = client.get("/papers/date/2025-01-10").content.decode()
    assert 'rel="prev" href="/papers/date/2025-01-08"' in html
    assert 'rel="next"' not in html
    html = client.get("/papers/date/2025-01-08").content.decode()
    assert 'rel="prev" href="/papers/date/2024-12-20"' in html and 'rel="next" href="/papers/date/2025-01-10"' in html


def test_week_and_month_pages_gather_their_days(client, feed):
    assert titles(client.get("/papers/week/2025-W02").content.decode()) == [
        "Scaling laws for tiny models", "Attention is still all you need", "A paper from the day before"]
    html = client.get("/papers/month/2024-12").content.decode()
    assert titles(html) == ["A paper from last month"]
    assert 'rel="next" href="/papers/month/2025-01"' in html


def test_an_empty_day_says_so(client, feed):
    r = client.get("/papers/date/2025-01-09")
    assert r.status_code == 200 and "No papers on the feed" in r.content.decode()


def test_the_date_picker_redirects_to_the_day_page(client, feed):
    r = client.get("/papers", {"date": "2025-01-08"})
    assert r.status_code == 302 and r["Location"] == "/papers/date/2025-01-08"


@pytest.mark.parametrize("url", ["/papers/date/2025-02-30", "/papers/week/2025-W60", "/papers/month/2025-13"])
def test_an_impossible_period_is_a_400_page_not_a_crash(client, feed, url):
    r = client.get(url)
    assert r.status_code == 400 and "does not exist" in r.content.decode()
    j = client.get(url + ".json")
    assert j.status_code == 400 and j.json()["code"] == "invalid_period"


def test_every_feed_page_is_also_json(client, feed):
    data = client.get("/papers/date/2025-01-10.json").json()
    assert [i["paper"]["id"] for i in data["papers"]] == ["2501.00002", "2501.00001"]
    assert data["prev"] == "/papers/date/2025-01-08" and data["total"] == 2
    assert client.get("/papers/week/2025-W02?format=json").json()["total"] == 3
    assert client.get("/papers.json").json()["period"]["slug"] == "2025-01-10"


def test_the_paper_page_shows_metadata_links_and_who_submitted_it(client, feed):
    html = client.get("/papers/2501.00001").content.decode()
    for expected in ["Attention is still all you need", "Ada Lovelace, Alan Turing", "cs.LG", "stat.ML",
                     "https://arxiv.org/abs/2501.00001", "https://arxiv.org/pdf/2501.00001", "First submitted",
                     "Jan 2, 2025", "submitted by <a href=\"/u/alice\"><strong>alice</strong></a>", '<span class="count">3</span>']:
        assert expected in html, expected


def test_the_paper_page_is_also_json_and_markdown(client, feed):
    j = client.get("/papers/2501.00001.json").json()
    assert (j["id"], j["upvotes"], j["submittedOnDailyBy"]["user"]) == ("2501.00001", 3, "alice")
    md = client.get("/papers/2501.00001.md")
    assert md["Content-Type"].startswith("text/markdown") and md.content.decode().startswith("# Attention")


def test_a_versioned_paper_url_redirects_to_the_paper(client, feed):
    r = client.get("/papers/2501.00001v3")
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00001"


def test_an_unknown_paper_is_a_404(client, feed):
    assert client.get("/papers/2501.09999").status_code == 404
    assert client.get("/papers/2501.09999.json").json()["code"] == "not_found"


def test_pages_load_no_asset_from_another_host_and_fit_a_phone(client, feed):
    import re

    html = client.get("/papers").content.decode()
    assert 'name="viewport"' in html
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets and all(a.startswith("/static/") for a in assets)
    assert client.get(assets[0]).status_code == 200


def test_a_vote_shows_at_once_despite_the_page_cache(client, feed):
    from paperboard.papers.models import Vote

    a, b, *_ = feed
    assert titles(client.get("/papers").content.decode())[0] == "Scaling laws for tiny models"
    from django.contrib.auth import get_user_model

    for i in range(10):
        Vote.objects.create(user=get_user_model().objects.create(username=f"fan{i}"), paper=a)
    a.upvotes += 10
    a.save()  # the saves bump the data version themselves
    assert titles(client.get("/papers").content.decode())[0] == "Attention is still all you need"


def test_an_empty_instance_explains_how_to_import(client, db):
    r = client.get("/papers")
    assert r.status_code == 200 and "paperboard import" in r.content.decode()


def test_anonymous_pages_carry_no_csrf_token_because_they_are_shared_from_the_cache(client, feed):
    for url in ["/papers", "/papers/2501.00001", "/papers/week/2025-W02"]:
        html = client.get(url).content.decode()
        assert "csrfmiddlewaretoken" not in html and "X-CSRFToken" not in html, url


def test_a_page_with_a_one_off_message_is_not_served_to_others_from_the_cache(client, feed):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.test import Client

    Client().get("/papers")  # warms the cache
    messaged = Client()
    messaged.cookies["messages"] = CookieStorage(None)._encode([Message(constants.INFO, "Only for you")])
    assert "Only for you" in messaged.get("/papers").content.decode()
    assert "Only for you" not in Client().get("/papers").content.decode()


def test_junk_query_parameters_are_served_but_never_fill_the_cache(client, feed):
    from django.core.cache import caches

    cache = caches["responses"]
    cache.clear()
    for i in range(5):
        assert client.get(f"/papers?_={i}").status_code == 200
    assert len(cache._cache) == 0
    client.get("/papers/date/2025-01-10?p=0&format=json")
    client.get("/papers/date/2025-01-10?format=json&p=0")  # same parameters, other order: same entry
    assert len(cache._cache) == 1
