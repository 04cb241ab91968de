"""The HF-shaped API, called through the real `huggingface_hub` client against a live server."""

import pytest
import json
import re
import urllib.error
import urllib.request
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from tests.conftest import make_paper, make_user, put_on_feed


@pytest.fixture
def hub(live_server, transactional_db):
    ak = make_user("akhaliq", first_name="AK")
    papers = {}
    for i, (day, votes) in enumerate([("2025-03-03", 5), ("2025-03-03", 12), ("2025-03-04", 1), ("2025-03-10", 9),
                                     ("2025-04-01", 3)]):
        p = make_paper(f"2503.{i:05d}", f"Paper number {i}", authors=("Yann LeCun", "Geoffrey Hinton"),
                       categories=("cs.LG", "cs.AI"), published="2025-03-01")
        put_on_feed(p, day, user=ak if i % 2 == 0 else None, votes=votes, hour=8 + i)
        papers[p.arxiv_id] = p
    return HfApi(endpoint=live_server.url, token=False), live_server.url


class Response:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def next_link(self):
        m = re.search(r'<([^>]+)>;\s*rel="next"', self.headers.get("Link", ""))
        return m.group(1) if m else None


def get(url):
    try:
        with urllib.request.urlopen(url) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def ids(items):
    return [p.id for p in items]


def test_list_daily_papers_for_a_date_ranks_by_upvotes_with_hub_fields(hub):
    api, _ = hub
    papers = list(api.list_daily_papers(date="2025-03-03"))
    assert ids(papers) == ["2503.00001", "2503.00000"]
    top = papers[1]
    assert top.title == "Paper number 0"
    assert top.summary == "Abstract of 2503.00000."
    assert [a.name for a in top.authors] == ["Yann LeCun", "Geoffrey Hinton"]
    assert top.upvotes == 5
    assert top.comments == 0
    assert top.published_at.isoformat() == "2025-03-01T00:00:00+00:00"
    assert top.submitted_at.isoformat() == "2025-03-03T08:00:00+00:00"
    assert top.submitted_by.username == "akhaliq" and top.submitted_by.fullname == "AK"


def test_week_month_and_submitter_filters(hub):
    api, _ = hub
    assert ids(api.list_daily_papers(week="2025-W10")) == ["2503.00001", "2503.00000", "2503.00002"]
    assert ids(api.list_daily_papers(month="2025-03")) == ["2503.00001", "2503.00003", "2503.00000", "2503.00002"]
    assert sorted(ids(api.list_daily_papers(submitter="akhaliq"))) == ["2503.00000", "2503.00002", "2503.00004"]


def test_paging_and_sorting(hub):
    api, _ = hub
    everything = ids(api.list_daily_papers(limit=100))
    assert everything[0] == "2503.00004"  # newest day first
    assert ids(api.list_daily_papers(limit=2, p=0)) + ids(api.list_daily_papers(limit=2, p=1)) == everything[:4]
    newest_first = ids(api.list_daily_papers(sort="publishedAt", month="2025-03"))
    assert newest_first == ["2503.00003", "2503.00002", "2503.00001", "2503.00000"]


def test_trending_sort_uses_recent_papers_only(hub):
    api, _ = hub
    # All test submissions are far in the past: outside the trending window.
    assert ids(api.list_daily_papers(sort="trending")) == []


def test_paper_info_returns_one_paper(hub):
    api, _ = hub
    info = api.paper_info("2503.00001")
    assert (info.id, info.title, info.upvotes) == ("2503.00001", "Paper number 1", 12)
    assert [a.name for a in info.authors] == ["Yann LeCun", "Geoffrey Hinton"]
    assert api.paper_info("2503.00001v2").id == "2503.00001"  # versions are accepted
    assert api.read_paper("2503.00001").startswith("# Paper number 1")


def test_an_unknown_paper_is_a_404_with_a_json_reason(hub):
    api, url = hub
    with pytest.raises(HfHubHTTPError) as exc:
        api.paper_info("2501.99999")
    assert exc.value.response.status_code == 404
    body = get(f"{url}/api/papers/2501.99999").json()
    assert body == {"error": "paper 2501.99999 not found", "code": "not_found"}


@pytest.mark.parametrize("query,reason", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("p=-1", "p"), ("date=2025-02-30", "does not exist"),
    ("week=2025-13", "week must look like"), ("date=2025-03-03&week=2025-W10", "at most one"),
    ("sort=hot", "sort"), ("limit=abc", "limit"),
])
def test_bad_parameters_are_400_json_with_a_reason(hub, query, reason):
    _, url = hub
    r = get(f"{url}/api/daily_papers?{query}")
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] == "invalid_parameter" and reason in body["error"]


def test_all_papers_are_cursor_paged_with_a_link_header(hub, settings):
    _, url = hub
    settings.BASE_URL = url  # the Link header is on the public base URL, here the live server's
    seen, next_url, pages = [], f"{url}/api/papers?limit=2", 0
    while next_url and pages < 10:
        r = get(next_url)
        assert r.status_code == 200
        seen += [p["id"] for p in r.json()]
        next_url = r.next_link
        pages += 1
    assert sorted(seen) == [f"2503.{i:05d}" for i in range(5)] and len(seen) == len(set(seen))
    bad = get(f"{url}/api/papers?cursor=!!!")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"


def test_the_openapi_schema_describes_the_endpoints(hub):
    _, url = hub
    schema = get(f"{url}/api/openapi.json").json()
    assert {"/api/daily_papers", "/api/papers", "/api/papers/{paper_id}"} <= set(schema["paths"])
    params = {p["name"] for p in schema["paths"]["/api/daily_papers"]["get"]["parameters"]}
    assert {"p", "limit", "date", "week", "month", "submitter", "sort"} <= params
