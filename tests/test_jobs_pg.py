"""Three `paperboard worker` processes on one PostgreSQL database, the one running the ingest job killed in
the middle of it: every slot of every scheduled job runs exactly once, and the killed run is finished by
another worker once its lease is over, without importing anything twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.keys import STRONG_KEY
from tests.test_copy_db import pg_available
from tests.test_digests_crash import ROOT
from tests.test_harvest import ALL_IDS, stub  # noqa: F401  (the arXiv API stub fixture)
from tests.test_jobs import HfStub
from tests.test_workers_pg import pg_database  # noqa: F401  (a scratch PostgreSQL database)

PAPERBOARD = [sys.executable, "-m", "paperboard"]
WORKERS = 3
LEASE = 4  # seconds: PAPERBOARD_JOB_LEASE_SECONDS for the test


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(not pg_available(), reason="no PostgreSQL on 127.0.0.1:5432 (CI runs one)")
def test_three_workers_on_postgresql_one_killed_mid_ingest_run_each_job_slot_exactly_once(
    pg_database, stub, tmp_path  # noqa: F811
):
    import psycopg

    hf = HfStub().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOARD_")}
    env |= {
        "PAPERBOARD_DATA_DIR": str(tmp_path), "PAPERBOARD_DATABASE_URL": pg_database,
        "PAPERBOARD_JOB_LEASE_SECONDS": str(LEASE), "PAPERBOARD_SECRET_KEY": STRONG_KEY,
        "PAPERBOARD_ARXIV_API_URL": stub.url, "PAPERBOARD_ARXIV_DELAY": "0", "PAPERBOARD_INGEST_CATEGORIES": "cs.LG",
        "PAPERBOARD_INGEST_EVERY": str(10**9),  # one slot for the whole test
        "PAPERBOARD_HF_DAILY_PAPERS_URL": hf.url, "PAPERBOARD_TRENDING_EVERY": "3",
        "PAPERBOARD_INDEX_EVERY": "0",  # loading the embedding model in three workers would only slow this down
    }
    migrated = subprocess.run([*PAPERBOARD, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    stub.slow = {3: 60.0}  # the second page of the ingest run takes a minute: the run is mid-job there
    db = psycopg.connect(pg_database, autocommit=True)

    def rows(sql: str, *args):
        return db.execute(sql, args).fetchall()

    workers = [subprocess.Popen([*PAPERBOARD, "worker", "--every", "1", "--interval", "0.2"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(WORKERS)]
    try:
        wait_for(lambda: 3 in stub.starts, 120, "the ingest run to ask for its second page")
        holder = rows("SELECT worker, status FROM jobs_jobrun WHERE job = 'ingest'")
        assert len(holder) == 1 and holder[0][1] == "running"
        pid = int(holder[0][0].rsplit(":", 1)[1])
        killed = next(w for w in workers if w.pid == pid)
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
        stub.slow = {}
        assert rows("SELECT count(*) FROM papers_paper")[0][0] == 3  # the first page was in when it died
        done = wait_for(lambda: rows("SELECT status, attempts, worker FROM jobs_jobrun WHERE job = 'ingest' "
                                     "AND status = 'done'"), 90, "another worker to finish the ingest run")
        time.sleep(4)  # more digest and trending slots come and go
        survivors = [w for w in workers if w is not killed]
        for w in survivors:
            w.send_signal(signal.SIGTERM)
        outs = [w.communicate(timeout=60)[0] for w in survivors]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        hf.stop()
    assert killed.returncode == -signal.SIGKILL
    assert all(w.returncode == 0 for w in survivors), outs
    (status, attempts, worker), = done
    assert attempts == 2 and int(worker.rsplit(":", 1)[1]) != pid  # taken over once, by another worker
    papers = rows("SELECT arxiv_id FROM papers_paper")
    assert sorted(a for (a,) in papers) == sorted(ALL_IDS)  # every paper, each once
    assert stub.starts.count(0) == 2 and stub.starts.count(3) == 2  # the new holder read both pages again

    # Every slot of every job ran exactly once: one task run did the work of each job run.
    runs = rows("SELECT id, job, status, attempts FROM jobs_jobrun ORDER BY id")
    by_job = {job: [r for r in runs if r[1] == job] for job in ("digests", "trending", "ingest")}
    assert len(by_job["digests"]) >= 3 and len(by_job["trending"]) >= 2, runs
    worked: dict[int, int] = {}
    for (args, value, status) in rows("SELECT args_kwargs, return_value, status FROM django_tasks_database_dbtaskresult"):
        if status == "SUCCESSFUL" and "superseded" not in (value or {}):
            run_id = args["args"][1]
            worked[run_id] = worked.get(run_id, 0) + 1
    finished = [r for r in runs if r[2] == "done"]
    assert {run_id: worked.get(run_id) for run_id, *_ in finished} == {run_id: 1 for run_id, *_ in finished}
    assert all(r[2] in ("done", "queued", "running") for r in runs) and not [r for r in runs if r[2] == "failed"]
    # Each trending run read each day of its window once (a stopping worker finishes the run under way).
    read = rows("SELECT result FROM jobs_jobrun WHERE job = 'trending' AND status = 'done'")
    assert len(hf.requests) == sum(result["days"] for (result,) in read) > 0
    db.close()
