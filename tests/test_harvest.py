"""The arXiv API harvester and `ingest arxiv`, against a real local HTTP server serving the fixtures."""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from paperboard.ingest import harvest
from paperboard.ingest.harvest import ArxivClient, HarvestError, harvest_arxiv
from tests.httpstub import StubServer

FIXTURES = Path(__file__).parent / "fixtures"
PAGE1 = (FIXTURES / "arxiv_api_page1.atom.xml").read_bytes()
PAGE2 = (FIXTURES / "arxiv_api_page2.atom.xml").read_bytes()
EMPTY = (FIXTURES / "arxiv_api_empty.atom.xml").read_bytes()
ERROR = (FIXTURES / "arxiv_api_error.atom.xml").read_bytes()
ALL_IDS = {"2501.07815", "2501.07702", "2501.07346", "2501.07211", "2501.07099"}
JAN13, JAN14 = dt.date(2025, 1, 13), dt.date(2025, 1, 14)


class ArxivStub(StubServer):
    """A local stand-in for export.arxiv.org/api/query: pages by `start`, with scripted failures first."""

    def __init__(self) -> None:
        self.pages = {0: PAGE1, 3: PAGE2}
        self.script: list[tuple[int, bytes] | tuple[str, float]] = []  # consumed before `pages`
        self.slow: dict[int, float] = {}  # start -> seconds to wait before answering that page
        super().__init__(self.answer, "/api/query")

    def answer(self, params: dict):
        if self.script:
            status, body = self.script.pop(0)
            if status == "hang":
                time.sleep(body)
                return None
        else:
            time.sleep(self.slow.get(int(params.get("start", 0)), 0.0))
            status, body = 200, self.pages.get(int(params.get("start", 0)), EMPTY)
        return status, "application/atom+xml; charset=utf-8", body

    @property
    def starts(self) -> list[int]:
        return [int(r["params"]["start"]) for r in self.requests]


class FakeTime:
    """A clock that only moves when the harvester sleeps, so sleeps are exact and cost nothing."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def stub():
    with ArxivStub() as s:
        yield s


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def client(stub, fake_time):
    return ArxivClient(stub.url, delay=3.0, timeout=2.0, sleep=fake_time.sleep, clock=fake_time.clock)


def run(client, **kwargs):
    kwargs.setdefault("page_size", 3)
    return harvest_arxiv(["cs.LG", "cs.CL"], JAN13, JAN14, client=client, **kwargs)


# --- the query -----------------------------------------------------------------------------------


def test_build_query_ors_categories_and_spans_whole_days():
    assert (
        harvest.build_query(["cs.LG"], JAN13, JAN14)
        == "cat:cs.LG AND submittedDate:[202501130000 TO 202501142359]"
    )
    assert (
        harvest.build_query(["cs.LG", "cs.CL"], JAN13, JAN13)
        == "(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202501130000 TO 202501132359]"
    )


@pytest.mark.django_db
def test_it_asks_for_the_categories_and_date_range_newest_first(stub, client):
    run(client)
    first = stub.requests[0]
    assert first["path"] == "/api/query"
    assert first["params"] == {
        "search_query": "(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202501130000 TO 202501142359]",
        "sortBy": "submittedDate",
        "sortOrder": "descending",
        "start": "0",
        "max_results": "3",
    }
    assert first["user_agent"].startswith("Paperboard/0.1 (+http")


# --- paging and stopping -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_follows_pages_until_total_results_and_waits_between_requests(stub, client, fake_time):
    from paperboard.papers.models import Paper

    result = run(client)
    assert stub.starts == [0, 3]
    assert result.stop_reason == "all results fetched"
    assert (result.stats.new, result.stats.updated, result.stats.rejected) == (5, 0, 0)
    assert result.total_results == 5 and result.pages == 2 and result.requests == 2
    assert fake_time.sleeps == [3.0]  # one polite pause between the two requests
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == ALL_IDS


@pytest.mark.django_db
def test_it_stops_at_a_page_that_brings_nothing_new(stub, client):
    run(client)
    stub.requests.clear()
    again = run(client)
    assert stub.starts == [0]
    assert again.stop_reason == "nothing new on this page"
    assert (again.stats.new, again.stats.updated, again.stats.unchanged) == (0, 0, 3)


@pytest.mark.django_db
def test_full_walks_on_past_a_page_with_nothing_new(stub, client):
    run(client)
    stub.requests.clear()
    again = run(client, stop_when_unchanged=False)
    assert stub.starts == [0, 3]
    assert (again.stats.new, again.stats.updated, again.stats.unchanged) == (0, 0, 5)


@pytest.mark.django_db
def test_it_stops_at_an_empty_page(stub, client):
    stub.pages = {0: EMPTY}
    result = run(client, page_size=100)
    assert stub.starts == [0]
    assert result.stop_reason == "empty page"
    assert result.total_results == 0 and result.stats.seen == 0


@pytest.mark.django_db
def test_it_stops_at_max_results_and_asks_for_no_more(stub, client):
    result = run(client, page_size=100, max_results=2)
    assert stub.starts == [0]
    assert stub.requests[0]["params"]["max_results"] == "2"
    assert result.stop_reason == "reached --max-results 2"
    assert result.stats.new == 2  # the stub sent 3 entries anyway; the third is not imported


@pytest.mark.django_db
def test_a_page_that_stops_short_of_total_results_asks_for_the_next(stub, client):
    stub.pages = {0: PAGE2}  # 2 entries, but totalResults says 5
    result = run(client)
    assert stub.starts == [0, 2]
    assert result.stop_reason == "empty page"
    assert result.stats.new == 2


# --- errors and retries ------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_retries_a_503_with_increasing_backoff(stub, client, fake_time):
    stub.script = [(503, b"Service Unavailable"), (503, b"Service Unavailable")]
    messages: list[str] = []
    result = run(client, log=messages.append)
    assert stub.starts == [0, 0, 0, 3]
    assert fake_time.sleeps[:2] == [6.0, 12.0]  # exponential: 2x then 4x the 3 s base
    assert fake_time.sleeps[2:] == [3.0]  # then the ordinary pause before page 2
    assert result.stats.new == 5
    assert any("HTTP 503; retrying in 6 s (attempt 2 of 4)" in m for m in messages)


@pytest.mark.django_db
def test_it_gives_up_after_four_failed_attempts(stub, client, fake_time):
    stub.script = [(500, b"oops")] * 4
    with pytest.raises(HarvestError, match="failed 4 times") as info:
        run(client)
    assert stub.starts == [0, 0, 0, 0]
    assert fake_time.sleeps == [6.0, 12.0, 24.0]
    assert info.value.url.startswith(stub.url)


@pytest.mark.django_db
def test_a_400_raises_a_clear_error_at_once(stub, client, fake_time):
    stub.script = [(400, ERROR)]
    started = time.monotonic()
    with pytest.raises(HarvestError) as info:
        run(client)
    assert time.monotonic() - started < 1
    assert stub.starts == [0]  # no retry
    assert fake_time.sleeps == []
    err = info.value
    assert err.status == 400
    assert err.url.startswith(stub.url + "?search_query=")
    assert "HTTP 400" in str(err) and stub.url in str(err)
    assert "incorrect id format for 1234.12345" in str(err)  # the API's own message, from the error feed


@pytest.mark.django_db
def test_an_error_entry_in_a_200_answer_stops_the_harvest(stub, client):
    stub.script = [(200, ERROR)]
    with pytest.raises(HarvestError, match="arXiv API error for .*incorrect id format"):
        run(client)
    assert stub.starts == [0]


@pytest.mark.django_db
def test_a_truncated_answer_is_fetched_again(stub, client, fake_time):
    stub.script = [(200, PAGE1[: len(PAGE1) // 2])]
    result = run(client)
    assert stub.starts == [0, 0, 3]
    assert fake_time.sleeps[0] == 6.0
    assert result.stats.new == 5 and result.stats.rejected == 0


@pytest.mark.django_db
def test_a_timeout_is_retried(stub, fake_time):
    stub.script = [("hang", 1.0)]
    client = ArxivClient(stub.url, delay=3.0, timeout=0.2, sleep=fake_time.sleep, clock=fake_time.clock)
    result = run(client)
    assert stub.starts == [0, 0, 3]
    assert fake_time.sleeps[0] == 6.0
    assert result.stats.new == 5


def test_an_unreachable_server_is_retried_then_reported(fake_time):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: connections are refused
    client = ArxivClient(
        f"http://127.0.0.1:{port}/api/query", delay=3.0, sleep=fake_time.sleep, clock=fake_time.clock
    )
    with pytest.raises(HarvestError, match="cannot reach the arXiv API"):
        run(client)
    assert client.requests == 4
    assert fake_time.sleeps == [6.0, 12.0, 24.0]


def test_the_delay_is_never_under_three_seconds_against_arxiv_org():
    assert ArxivClient("https://export.arxiv.org/api/query", delay=0.1).delay == 3.0
    assert ArxivClient("http://127.0.0.1:9/api/query", delay=0.1).delay == 0.1


def test_the_client_reads_its_defaults_from_settings():
    with override_settings(
        PAPERBOARD_ARXIV_API_URL="http://mirror.example/api/query",
        PAPERBOARD_ARXIV_DELAY=0.25,
        PAPERBOARD_HTTP_TIMEOUT=7,
        BASE_URL="https://papers.example.org",
    ):
        client = ArxivClient()
    assert (client.base_url, client.delay, client.timeout) == ("http://mirror.example/api/query", 0.25, 7.0)
    assert client.user_agent == "Paperboard/0.1 (+https://papers.example.org)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"categories": ["cs.LG"], "since": JAN14, "until": JAN13}, "before"),
        ({"categories": ["not a category"], "since": JAN13}, "not an arXiv category"),
        ({"categories": [], "since": JAN13}, "at least one category"),
        ({"categories": ["cs.LG"], "since": JAN13, "page_size": 5000}, "page size"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(kwargs, message):
    client = ArxivClient("http://127.0.0.1:9/api/query", delay=0)
    with pytest.raises(ValueError, match=message):
        harvest_arxiv(client=client, **kwargs)
    assert client.requests == 0


# --- the management command ----------------------------------------------------------------------


def ingest(stub, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with override_settings(PAPERBOARD_ARXIV_API_URL=stub.url, PAPERBOARD_ARXIV_DELAY=0.001):
        call_command("ingest", "arxiv", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


ARGS = ("--category", "cs.LG", "--category", "cs.CL", "--since", "2025-01-13", "--until", "2025-01-14")


@pytest.mark.django_db
def test_ingest_arxiv_imports_the_papers_and_prints_a_summary(stub):
    from paperboard.papers.models import Paper

    out, err = ingest(stub, *ARGS, "--page-size", "3")
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == ALL_IDS
    paper = Paper.objects.get(arxiv_id="2501.07211")
    assert paper.version == 3 and paper.primary_category == "cs.CL"
    assert stub.requests[0]["params"]["search_query"] == (
        "(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202501130000 TO 202501142359]"
    )
    assert stub.starts == [0, 3]
    assert "page 1: results 1-3 of 5: 3 new, 0 updated, 0 unchanged, 0 rejected" in out
    assert "Stopped: all results fetched (2 page(s), 2 request(s))." in out
    assert "Imported: 5 new, 0 updated, 0 unchanged, 0 rejected" in out
    assert err == ""

    stub.requests.clear()
    out, _ = ingest(stub, *ARGS, "--page-size", "3")
    assert stub.starts == [0]
    assert "Imported: 0 new, 0 updated, 3 unchanged, 0 rejected" in out


@pytest.mark.django_db
def test_ingest_arxiv_prints_rejected_entries_to_stderr(stub):
    stub.pages = {0: PAGE2.replace(b"abs/2501.07099v1</id>", b"abs/garbage</id>")}
    out, err = ingest(stub, *ARGS)
    assert (
        "rejected: arXiv API (start=0): entry 2: not an arXiv abs URL or id: 'http://arxiv.org/abs/garbage'"
        in err
    )
    assert "Imported: 1 new, 0 updated, 0 unchanged, 1 rejected" in out


@pytest.mark.django_db
def test_ingest_arxiv_turns_a_400_into_a_command_error(stub):
    stub.script = [(400, ERROR)]
    with pytest.raises(CommandError, match="HTTP 400.*incorrect id format"):
        ingest(stub, *ARGS)


@pytest.mark.django_db
def test_ingest_arxiv_honours_max_results(stub):
    out, _ = ingest(stub, *ARGS, "--max-results", "3", "--page-size", "100")
    assert stub.requests[0]["params"]["max_results"] == "3"
    assert stub.starts == [0]
    assert "Stopped: reached --max-results 3" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--category", "cs.LG"), "--since"),
        (("--since", "2025-01-13"), "--category"),
        (("--category", "cs.LG", "--since", "13/01/2025"), "not a date"),
        (("--category", "cs.LG", "--since", "2025-01-13", "--page-size", "0"), "at least 1"),
        (("--category", "cs.LG", "--since", "2025-01-14", "--until", "2025-01-13"), "before"),
        (("--category", "cs.LG", "--since", "2025-01-13", "--page-size", "2001"), "page size"),
    ],
)
def test_ingest_arxiv_refuses_bad_options(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("ingest", "arxiv", *args, stdout=io.StringIO())


def test_ingest_needs_a_source():
    with pytest.raises(CommandError, match="SOURCE"):
        call_command("ingest", stdout=io.StringIO())


def test_ingest_arxiv_help_lists_its_options(capsys):
    with pytest.raises(SystemExit) as info:
        call_command("ingest", "arxiv", "--help")
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--category", "--since", "--until", "--page-size", "--max-results", "--full"):
        assert option in text


def test_ingest_arxiv_help_works_from_the_command_line():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "paperboard.settings"}
    proc = subprocess.run(
        [sys.executable, "-m", "django", "ingest", "arxiv", "--help"],
        capture_output=True,
        check=False,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--category CAT" in proc.stdout and "--since YYYY-MM-DD" in proc.stdout
