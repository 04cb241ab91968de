"""Scheduled jobs: slot claims by compare-and-set, take-over of a dead worker's run, and each job's body
against real local HTTP servers (arXiv API Atom pages, Hugging Face daily-papers JSON)."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from django.utils import timezone

from paperboard.ingest import harvest, store
from paperboard.ingest.records import PaperRecord
from paperboard.jobs import runs, scheduler, work
from paperboard.jobs.models import JobRun
from paperboard.papers.models import Paper
from paperboard.search import indexing, lexical
from tests.test_harvest import ALL_IDS, stub  # noqa: F401  (the arXiv API stub fixture)
from tests.httpstub import StubServer
from tests.test_import import HF

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def later(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


# ---------------------------------------------------------------- claims


def test_each_slot_is_claimed_by_one_worker_only():
    first = runs.claim("index", 300, overlap=True, now=T0)
    assert first is not None and first.due_at == T0 and first.status == JobRun.QUEUED
    assert runs.claim("index", 300, overlap=True, now=later(299)) is None  # the same slot
    assert runs.claim("ingest", 300, overlap=True, now=later(1)) is not None  # another job's slot is its own
    assert runs.claim("index", 300, overlap=True, now=later(300)).due_at == later(300)
    assert JobRun.objects.filter(job="index").count() == 2


def test_slots_are_counted_from_the_epoch_so_every_host_agrees():
    assert runs.slot_start(later(17), 60) == T0
    assert runs.slot_start(dt.datetime(2026, 11, 26, 10, 59, tzinfo=dt.UTC), 3600) == later(3600)


def test_a_job_that_may_not_overlap_waits_while_its_run_is_live(settings):
    settings.PAPERBOARD_JOB_LEASE_SECONDS = 600
    assert runs.claim("ingest", 60, overlap=False, now=T0) is not None
    assert runs.claim("ingest", 60, overlap=False, now=later(120)) is None  # still queued, lease running
    assert runs.claim("digests", 60, overlap=True, now=T0) is not None
    assert runs.claim("digests", 60, overlap=True, now=later(120)) is not None  # digest runs may overlap


def test_a_dead_workers_run_is_taken_over_once_its_lease_is_over(settings):
    settings.PAPERBOARD_JOB_LEASE_SECONDS = 30
    run = runs.claim("ingest", 3600, overlap=False)
    dead = runs.Holder(run.pk, run.token)
    assert dead.start()
    now = timezone.now()
    assert runs.claim("ingest", 3600, overlap=False, now=now + dt.timedelta(seconds=10)) is None  # leased
    taken = runs.claim("ingest", 3600, overlap=False, now=now + dt.timedelta(seconds=31))
    assert taken.pk == run.pk and taken.token != run.token and taken.attempts == 2
    assert runs.claim("ingest", 3600, overlap=False, now=now + dt.timedelta(seconds=32)) is None  # once
    dead._last_beat = float("-inf")  # its next heartbeat is due
    with pytest.raises(runs.LeaseLost):
        dead.heartbeat()
    assert dead.finish({"late": True}) is False  # nothing it writes lands
    alive = runs.Holder(taken.pk, taken.token)
    assert alive.start() and alive.finish({"new": 1})
    run.refresh_from_db()
    assert (run.status, run.result, run.attempts) == (JobRun.DONE, {"new": 1}, 2)


def test_a_superseded_task_does_nothing(settings):
    settings.TASKS = IMMEDIATE
    run = runs.claim("trending", 60, overlap=False)
    from paperboard.jobs.tasks import run_job

    result = run_job.enqueue("trending", run.pk, "not-the-token")
    assert result.return_value == {"superseded": "taken over by another worker, or already ended"}
    run.refresh_from_db()
    assert run.status == JobRun.QUEUED


# ---------------------------------------------------------------- the scheduler


def test_the_scheduler_runs_each_due_job_once_per_slot(settings, monkeypatch):
    settings.TASKS = IMMEDIATE
    monkeypatch.setattr(indexing, "INDEXERS", ("paperboard.search.lexical:LexicalIndexer",))
    every = {"digests": 60, "ingest": 3600, "trending": 1800, "index": 300}
    assert scheduler.tick(every, now=T0) == ["digests", "ingest", "trending", "index"]
    assert scheduler.tick(every, now=later(30)) == []
    assert scheduler.tick(every, now=later(60)) == ["digests"]
    done = {(r.job, r.status) for r in JobRun.objects.all()}
    assert done == {("digests", "done"), ("ingest", "done"), ("trending", "done"), ("index", "done")}
    assert JobRun.objects.get(job="ingest").result == {"skipped": "PAPERBOARD_INGEST_CATEGORIES is empty"}
    assert JobRun.objects.get(job="trending").result == {"skipped": "PAPERBOARD_HF_DAILY_PAPERS_URL is empty"}
    assert scheduler.tick({"digests": 0}, now=later(3600)) == []  # 0 turns a job off


def test_a_failing_job_is_recorded_with_its_error_and_the_others_still_run(settings, stub, monkeypatch):  # noqa: F811
    settings.TASKS = IMMEDIATE
    settings.PAPERBOARD_ARXIV_DELAY = 0
    settings.PAPERBOARD_ARXIV_API_URL = stub.url
    settings.PAPERBOARD_INGEST_CATEGORIES = ["cs.LG"]
    stub.script = [(400, b"bad query")]
    monkeypatch.setattr(indexing, "INDEXERS", ("paperboard.search.lexical:LexicalIndexer",))
    assert scheduler.tick({"ingest": 3600, "index": 300}, now=T0) == ["ingest", "index"]
    ingest = JobRun.objects.get(job="ingest")
    assert ingest.status == JobRun.FAILED and "HTTP 400" in ingest.error and ingest.finished_at
    assert JobRun.objects.get(job="index").status == JobRun.DONE


def test_old_runs_are_tidied_but_the_last_good_ingest_run_stays():
    old = T0 - scheduler.KEEP_RUNS - dt.timedelta(days=1)
    for n, (job, status, result) in enumerate([("ingest", "done", {"until": "2026-10-01"}), ("ingest", "failed", {}),
                                               ("index", "done", {}), ("digests", "running", {})]):
        JobRun.objects.create(job=job, due_at=old + dt.timedelta(minutes=n), status=status, token="t",
                              lease_until=old, claimed_at=old, result=result)
    scheduler.tidy(now=T0)
    assert sorted(JobRun.objects.values_list("job", "status")) == [("digests", "running"), ("ingest", "done")]


# ---------------------------------------------------------------- the job bodies


def test_the_ingest_job_reads_every_page_and_starts_next_time_from_the_last_good_run(settings, stub):  # noqa: F811
    settings.TASKS = IMMEDIATE
    settings.PAPERBOARD_ARXIV_DELAY = 0
    settings.PAPERBOARD_ARXIV_API_URL = stub.url
    settings.PAPERBOARD_INGEST_CATEGORIES = ["cs.LG", "cs.CL"]
    assert scheduler.tick({"ingest": 60}) == ["ingest"]
    run = JobRun.objects.get(job="ingest")
    today = dt.datetime.now(dt.UTC).date()
    assert run.status == JobRun.DONE
    assert run.result | {"stop": ""} == {"since": str(today - dt.timedelta(days=work.INGEST_FIRST_DAYS)),
                                         "until": str(today), "pages": 2, "new": 5, "updated": 0, "unchanged": 0,
                                         "rejected": 0, "stop": ""}
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == ALL_IDS
    query = stub.requests[0]["params"]["search_query"]
    assert "(cat:cs.LG OR cat:cs.CL)" in query and f"{today - dt.timedelta(days=2):%Y%m%d}0000" in query
    # The next run starts a day before the last good run's last day, and reads every page again.
    stub.requests.clear()
    result = work.ingest_arxiv(lambda: None)
    assert result["since"] == str(today - dt.timedelta(days=work.INGEST_OVERLAP_DAYS))
    assert (result["new"], result["unchanged"], result["pages"]) == (0, 5, 2)
    assert stub.starts == [0, 3]


class HfStub(StubServer):
    """A local stand-in for huggingface.co/api/daily_papers: `days[YYYY-MM-DD]` is that day's JSON list."""

    def __init__(self) -> None:
        self.days: dict[str, list] = {}
        super().__init__(self.answer, "/api/daily_papers")

    @property
    def dates(self) -> list[str]:
        return [r["params"].get("date", "") for r in self.requests]

    def answer(self, params: dict):
        return 200, "application/json", json.dumps(self.days.get(params.get("date", ""), [])).encode()


@pytest.fixture
def hf(monkeypatch):
    monkeypatch.setattr(harvest, "HF_DELAY", 0.0)
    with HfStub() as h:
        yield h


def test_the_trending_job_refreshes_imported_upvotes_comments_and_stars_for_the_window(settings, hf):
    settings.PAPERBOARD_HF_DAILY_PAPERS_URL = hf.url
    today = timezone.localdate()
    item = copy.deepcopy(HF[0])
    hf.days[str(today - dt.timedelta(days=1))] = [item]
    first = work.refresh_trending(lambda: None)
    assert (first["papers"], first["new"], first["feed_new"]) == (1, 1, 1)
    assert len(hf.requests) == first["days"] and hf.dates[0] == str(today)
    item["paper"]["upvotes"], item["paper"]["githubStars"], item["numComments"] = 120, 2000, 9
    again = work.refresh_trending(lambda: None)
    assert (again["new"], again["updated"] + again["feed_updated"] > 0) == (0, True)
    paper = Paper.objects.get(arxiv_id="2510.26692")
    assert (paper.imported_upvotes, paper.github_stars, paper.num_comments) == (120, 2000, 9)
    unchanged = work.refresh_trending(lambda: None)
    assert (unchanged["new"], unchanged["updated"], unchanged["feed_updated"]) == (0, 0, 0)


def test_the_index_job_stops_after_its_time_and_the_next_run_goes_on(monkeypatch):
    monkeypatch.setattr(indexing, "INDEXERS", ("paperboard.search.lexical:LexicalIndexer",))
    store.import_records([
        PaperRecord(arxiv_id=f"2507.{i:05d}", title=f"Schedulable paper {i}", abstract="On jobs.",
                    authors=["Ada Lovelace"], categories=["cs.DC"], published_at=dt.datetime(2025, 7, 1, tzinfo=dt.UTC))
        for i in range(1, 8)
    ])
    lexical.LexicalIndexer().rebuild()
    beats = []
    first = work.build_index(lambda: beats.append(1), budget=0, batch_size=3)
    assert first == {"lexical": 3, "more": True} and beats == [1]
    assert work.build_index(lambda: None, batch_size=3) == {"lexical": 4}
    assert work.build_index(lambda: None) == {"lexical": 0}


def test_metrics_show_job_runs_by_status_and_the_last_success(client):
    JobRun.objects.create(job="index", due_at=T0, status="done", token="t", lease_until=T0, claimed_at=T0,
                          finished_at=later(5))
    JobRun.objects.create(job="ingest", due_at=T0, status="failed", token="t", lease_until=T0, claimed_at=T0)
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'paperboard_job_runs{job="index",status="done"} 1.0' in body
    assert 'paperboard_job_runs{job="ingest",status="failed"} 1.0' in body
    last = [line for line in body.splitlines() if line.startswith('paperboard_job_last_success_timestamp_seconds{job="index"}')]
    assert len(last) == 1 and float(last[0].split()[-1]) == later(5).timestamp()
