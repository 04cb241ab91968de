"""Search pages (HTML, JSON, the htmx fragment), arXiv id paste, the HF-shaped search API, topic pages."""

import datetime as dt
import json
import re
import urllib.error
import urllib.request

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from django.conf import settings as django_settings
from django.core.cache import caches

from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers import freshness
from paperboard.papers.models import Paper
from tests.conftest import make_user, put_on_feed


def record(arxiv_id, title, abstract, *, authors=("Ada Lovelace",), categories=("cs.LG",), published="2025-01-02",
           **extra):
    return PaperRecord(
        arxiv_id=arxiv_id, title=title, abstract=abstract, authors=list(authors), categories=list(categories),
        published_at=dt.datetime.fromisoformat(published).replace(tzinfo=dt.UTC), **extra,
    )


def make_library():
    store.import_records([
        record("2501.00001", "Sparse attention for long documents", "We make transformers cheaper on long inputs.",
               authors=("Yann LeCun", "Ada Lovelace"), categories=("cs.CL", "cs.LG"), published="2025-01-10"),
        record("2501.00002", "A study of recurrent networks", "Unlike attention, recurrence keeps a state.",
               authors=("Geoffrey Hinton",), categories=("cs.LG",), published="2024-06-01"),
        record("2501.00003", "Graph neural networks for molecules", "Message passing on molecular graphs.",
               authors=("Marie Curie",), categories=("q-bio.BM", "cs.LG"), published="2023-03-15",
               github_repo="https://github.com/x/gnn"),
        record("2501.00004", "Diffusion <models> & \"friends\"", "Denoising diffusion; attention not needed.",
               authors=("Prafulla Dhariwal",), categories=("cs.CV",), published="2021-05-11"),
    ])
    return {p.arxiv_id: p for p in Paper.objects.all()}


@pytest.fixture
def library(db, settings):
    settings.PAPERBOARD_SEARCH_FETCH_UNKNOWN = False
    settings.PAPERBOARD_SEMANTIC_LIVE_EMBED = False
    return make_library()


def clear_caches():
    for alias in django_settings.CACHES:
        caches[alias].clear()


def result_ids(html):
    return re.findall(r'<article class="card result" id="paper-([^"]+)"', html)


# ---- The search page ---------------------------------------------------------------------------------------


def test_search_page_lists_ranked_results_with_highlighted_snippets(client, library):
    r = client.get("/papers/search", {"q": "attention"})
    assert r.status_code == 200
    html = r.content.decode()
    assert result_ids(html)[0] == "2501.00001"
    assert set(result_ids(html)) == {"2501.00001", "2501.00002", "2501.00004"}
    assert 'Sparse <mark>attention</mark> for long documents' in html
    assert "Unlike <mark>attention</mark>, recurrence keeps a state" in html
    assert 'href="/papers/category/cs.CL"' in html  # category chips go to topic pages
    assert 'rel="alternate" type="application/json" href="/papers/search.json?q=attention"' in html


def test_user_text_in_results_is_escaped(client, library):
    html = client.get("/papers/search", {"q": "diffusion <script>"}).content.decode()
    assert "<script>" not in html.split("<main>")[1]
    html = client.get("/papers/search", {"q": "diffusion"}).content.decode()
    assert "<mark>Diffusion</mark> &lt;models&gt; &amp; &quot;friends&quot;" in html


def test_filters_sort_and_pagination(client, library, monkeypatch):
    html = client.get("/papers/search", {"q": "attention", "cat": "cs.LG"}).content.decode()
    assert set(result_ids(html)) == {"2501.00001", "2501.00002"}
    html = client.get("/papers/search", {"q": "attention", "from": "2024-01-01", "to": "2024-12-31"}).content.decode()
    assert result_ids(html) == ["2501.00002"]
    html = client.get("/papers/search", {"q": "networks", "code": "1"}).content.decode()
    assert result_ids(html) == ["2501.00003"]
    html = client.get("/papers/search", {"q": "attention", "sort": "newest"}).content.decode()
    assert result_ids(html) == ["2501.00001", "2501.00002", "2501.00004"]
    from paperboard.search import service

    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    clear_caches()  # the page above is cached
    html = client.get("/papers/search", {"q": "attention", "sort": "newest"}).content.decode()
    assert result_ids(html) == ["2501.00001", "2501.00002"]
    assert 'rel="next" href="/papers/search?q=attention&amp;sort=newest&amp;p=1"' in html
    html = client.get("/papers/search", {"q": "attention", "sort": "newest", "p": "1"}).content.decode()
    assert result_ids(html) == ["2501.00004"] and 'rel="prev"' in html and 'rel="next"' not in html


def test_search_page_json(client, library):
    r = client.get("/papers/search.json", {"q": "attention cat:cs.LG"})
    assert r.status_code == 200
    data = r.json()
    assert [x["paper"]["id"] for x in data["results"]][0] == "2501.00001"
    assert data["parsed"]["categories"] == ["cs.LG"] and data["parsed"]["terms"] == ["attention"]
    assert data["results"][0]["title"] == "Sparse attention for long documents"
    assert data["results"][0]["source"] == "hybrid"
    assert client.get("/papers/search", {"q": "attention", "format": "json"}).json()["results"]


@pytest.mark.parametrize("q", ['"', "AND (", "after:2024-99-99", '"unbalanced', "-", "cat:", "p:", "%", "\x01",
                               "a" * 5000, "NEAR(x", "*", "{title}:x"])
def test_malformed_queries_never_give_an_error_page(client, library, q):
    for url in ("/papers/search", "/papers/search.json", "/papers/search/suggest"):
        r = client.get(url, {"q": q, "p": "x", "from": "never", "to": "2024-02-31", "cat": "%%, cs.LG", "sort": "?"})
        assert r.status_code == 200, (url, q)


def test_an_empty_search_shows_the_syntax_help(client, library):
    html = client.get("/papers/search").content.decode()
    assert "Search syntax" in html and "author:" in html and not result_ids(html)


def test_no_results_says_so(client, library):
    html = client.get("/papers/search", {"q": "zebras"}).content.decode()
    assert "No results" in html and "No papers match" in html


def test_the_search_box_is_on_every_page_with_results_as_you_type(client, library):
    html = client.get("/papers/search", {"q": "x"}).content.decode()
    for url in ("/papers", "/papers/2501.00001", "/papers/trending", "/accounts/login"):
        html = client.get(url).content.decode()
        assert 'action="/papers/search"' in html and 'role="search"' in html, url
        assert 'hx-get="/papers/search/suggest"' in html
        assert 'hx-trigger="input changed delay:300ms, search"' in html
        assert "<details class=\"search-help\">" in html and "author:" in html


def test_the_htmx_fragment_suggests_matches_while_typing(client, library):
    r = client.get("/papers/search/suggest", {"q": "molec"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert '<a href="/papers/2501.00003">Graph neural networks for <mark>molecules</mark></a>' in html
    assert 'href="/papers/search?q=molec"' in html
    assert "2501.00003" not in client.get("/papers/search/suggest", {"q": "molec "}).content.decode()
    assert client.get("/papers/search/suggest", {"q": ""}).content.decode().strip() == ""
    html = client.get("/papers/search/suggest", {"q": "https://arxiv.org/abs/2501.00002"}).content.decode()
    assert 'href="/papers/search?q=2501.00002"' in html


def test_hidden_papers_are_not_found_on_the_page(client, library):
    Paper.objects.filter(arxiv_id="2501.00001").update(hidden=True)
    freshness.changed()
    html = client.get("/papers/search", {"q": "attention"}).content.decode()
    assert "2501.00001" not in result_ids(html)
    r = client.get("/papers/search", {"q": "2501.00001"})
    assert r.status_code == 200 and "not in this instance" in r.content.decode()


# ---- Pasting an arXiv id or URL ------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["2501.00002", "arXiv:2501.00002v3", "https://arxiv.org/abs/2501.00002",
                               "https://arxiv.org/pdf/2501.00002v1.pdf", " 2501.00002 "])
def test_pasting_a_known_id_or_url_jumps_to_the_paper(client, library, q):
    r = client.get("/papers/search", {"q": q})
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00002"
    r = client.get("/papers/search.json", {"q": q})
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00002.json"


def test_an_unknown_id_is_not_in_this_instance_when_fetching_is_off(client, library, monkeypatch):
    from paperboard.community import submissions

    def no_network(arxiv_id):
        raise AssertionError("must not fetch")

    monkeypatch.setattr(submissions, "fetch_from_arxiv", no_network)
    r = client.get("/papers/search", {"q": "https://arxiv.org/abs/2502.12345"})
    html = r.content.decode()
    assert r.status_code == 200 and "arXiv:2502.12345 is not in this instance" in html
    assert 'href="https://arxiv.org/abs/2502.12345"' in html
    data = client.get("/papers/search.json", {"q": "2502.12345"}).json()
    assert data["found"] is False and data["arxivUrl"] == "https://arxiv.org/abs/2502.12345"


def test_an_unknown_id_is_fetched_from_arxiv_when_allowed(client, library, settings, monkeypatch):
    from paperboard.community import submissions

    settings.PAPERBOARD_SEARCH_FETCH_UNKNOWN = True
    fetched = []

    def fake_fetch(arxiv_id):
        fetched.append(arxiv_id)
        store.import_records([record(arxiv_id, "Fetched just now", "From the arXiv API.")])
        return Paper.objects.get(arxiv_id=arxiv_id)

    monkeypatch.setattr(submissions, "fetch_from_arxiv", fake_fetch)
    r = client.get("/papers/search", {"q": "arxiv.org/abs/2502.12345v2"})
    assert r.status_code == 302 and r["Location"] == "/papers/2502.12345" and fetched == ["2502.12345"]
    assert "2502.12345" in client.get("/papers/search.json", {"q": "fetched"}).content.decode()  # indexed too


def test_a_refused_fetch_explains_why(client, library, settings, monkeypatch):
    from paperboard.community import rules, submissions

    settings.PAPERBOARD_SEARCH_FETCH_UNKNOWN = True

    def not_found(arxiv_id):
        raise rules.not_found(arxiv_id)

    monkeypatch.setattr(submissions, "fetch_from_arxiv", not_found)
    r = client.get("/papers/search", {"q": "2502.99999"})
    html = r.content.decode()
    assert r.status_code == 200 and "not in this instance" in html and "2502.99999" in html


# ---- Topic pages -------------------------------------------------------------------------------------------


def test_topic_page_shows_the_categorys_latest_feed_day_and_trending(client, library, settings):
    p = library
    put_on_feed(p["2501.00001"], "2025-01-10", votes=2)
    put_on_feed(p["2501.00002"], "2025-01-10", votes=5)
    put_on_feed(p["2501.00004"], "2025-01-11", votes=9)  # cs.CV, a later day
    put_on_feed(p["2501.00003"], "2025-01-08", votes=1)
    r = client.get("/papers/category/cs.LG")
    assert r.status_code == 200
    html = r.content.decode()
    titles = re.findall(r'<h3><a href="/papers/[^"]+">([^<]+)</a></h3>', html)
    # The latest day with cs.LG papers (Jan 10), by upvotes; the cs.CV paper of Jan 11 is not there.
    assert titles[:2] == ["A study of recurrent networks", "Sparse attention for long documents"]
    assert "Diffusion" not in html.split("Trending in cs.LG")[0]
    assert "Friday, January 10, 2025" in html
    assert 'href="/papers/category/cs.CL"' in html and 'href="/papers/category/q-bio.BM"' not in html.split("Related")[0]
    data = client.get("/papers/category/cs.LG.json").json()
    assert data["day"] == "2025-01-10"
    assert [x["paper"]["id"] for x in data["papers"]] == ["2501.00002", "2501.00001"]
    assert "cs.CL" in data["related"]
    assert isinstance(data["trending"], list)


def test_topic_page_trending_is_filtered_by_category(client, library):
    from django.utils import timezone

    from paperboard.papers import queries

    p = library
    today = timezone.now().date().isoformat()
    put_on_feed(p["2501.00001"], today, votes=3)
    put_on_feed(p["2501.00004"], today, votes=9)
    ids = [s.paper.arxiv_id for s in queries.feed(sort="trending", category="cs.LG")]
    assert ids == ["2501.00001"]
    assert [s.paper.arxiv_id for s in queries.feed(sort="trending")][:2] == ["2501.00004", "2501.00001"]
    data = client.get("/papers/category/cs.LG.json").json()
    assert [x["paper"]["id"] for x in data["trending"]] == ["2501.00001"]


def test_topic_page_without_feed_days_and_unknown_categories(client, library):
    r = client.get("/papers/category/cs.CV")
    html = r.content.decode()
    assert r.status_code == 200 and "No cs.CV paper has been on the feed yet" in html
    assert "Newest cs.CV papers" in html and result_ids(html) == ["2501.00004"]  # its newest papers instead
    data = client.get("/papers/category/cs.CV.json").json()
    assert data["day"] is None and [p["id"] for p in data["newest"]] == ["2501.00004"]
    assert client.get("/papers/category/cs.cv").status_code == 302
    assert client.get("/papers/category/cs.cv")["Location"] == "/papers/category/cs.CV"
    assert client.get("/papers/category/xx.YY").status_code == 404
    assert client.get("/papers/category/xx.YY.json").json()["code"] == "not_found"


def test_feed_cards_link_categories_to_topic_pages(client, library):
    put_on_feed(library["2501.00001"], "2025-01-10")
    html = client.get("/papers").content.decode()
    assert '<a class="cat" href="/papers/category/cs.CL"' in html


# ---- The HF-shaped API ------------------------------------------------------------------------------------------


@pytest.fixture
def hub(live_server, transactional_db, settings):
    settings.PAPERBOARD_SEMANTIC_LIVE_EMBED = False
    papers = make_library()
    ak = make_user("akhaliq", first_name="AK")
    put_on_feed(papers["2501.00001"], "2025-01-10", user=ak, votes=4)
    return HfApi(endpoint=live_server.url, token=False), live_server.url


def get(url):
    try:
        with urllib.request.urlopen(url) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_hfapi_list_papers_searches(hub):
    api, _ = hub
    papers = list(api.list_papers(query="attention"))
    assert [p.id for p in papers][0] == "2501.00001"
    assert {p.id for p in papers} == {"2501.00001", "2501.00002", "2501.00004"}
    top = papers[0]
    assert top.title == "Sparse attention for long documents"
    assert top.summary == "We make transformers cheaper on long inputs."
    assert [a.name for a in top.authors] == ["Yann LeCun", "Ada Lovelace"]
    assert top.upvotes == 4
    assert top.published_at.isoformat() == "2025-01-10T00:00:00+00:00"
    assert top.submitted_at.isoformat() == "2025-01-10T09:00:00+00:00"  # on the feed
    assert top.submitted_by.username == "akhaliq"
    off_feed = papers[1]
    assert off_feed.submitted_at is None and off_feed.submitted_by is None
    assert [p.id for p in api.list_papers(query="attention", limit=1)] == ["2501.00001"]
    assert [p.id for p in api.list_papers(query='"graph neural" has:code')] == ["2501.00003"]
    assert [p.id for p in api.list_papers(query="https://arxiv.org/abs/2501.00002v1")] == ["2501.00002"]
    assert list(api.list_papers(query="zebras")) == []


def test_search_api_bad_parameters_are_400_json(hub):
    api, url = hub
    for bad in ("", "?q=", "?q=x&limit=0", "?q=x&limit=121", "?q=x&limit=ten", "?q=x&sort=best"):
        status, body = get(f"{url}/api/papers/search{bad}")
        assert status == 400 and body["code"] == "invalid_parameter", bad
    with pytest.raises(HfHubHTTPError):
        list(api.list_papers())
    status, body = get(f"{url}/api/papers/search?q=%22&limit=120")
    assert status == 200 and body == []
    status, body = get(f"{url}/api/papers/search?q=attention&sort=newest")
    assert [x["paper"]["id"] for x in body] == ["2501.00001", "2501.00002", "2501.00004"]


def test_search_api_does_not_swallow_paper_routes(hub):
    _, url = hub
    status, body = get(f"{url}/api/papers/2501.00003")
    assert status == 200 and body["id"] == "2501.00003"


def test_a_nul_byte_in_the_query_is_a_clear_400_not_an_error(client, db):
    r = client.get("/papers/search", {"q": "graph\x00networks"})
    assert r.status_code == 400 and b"NUL character" in r.content
    r = client.get("/api/papers/search", {"q": "graph\x00networks"})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    assert client.get("/papers/search", {"q": "graph\x01networks"}).status_code == 200  # other controls: dropped
