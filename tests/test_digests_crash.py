"""The digest run as real processes (`paperboard digest send`, `paperboard worker`) against a file SQLite
database in a temporary data dir and the real test SMTP server.

A run killed with SIGKILL at the worst moments and started again sends every due subscriber exactly one
digest: killed mid-conversation (MAIL FROM and RCPT TO sent, no DATA yet), the digest is sent again once
its lease is over; killed after the server took the message but before it answered, it is not sent again
(at most once, see docs/digests.md). SIGTERM stops the worker cleanly.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.keys import STRONG_KEY
from tests.smtp import smtp_server  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parent.parent
PAPERBOARD = [sys.executable, "-m", "paperboard"]
READERS = 8
LEASE = 4  # seconds (PAPERBOARD_DIGEST_LEASE_SECONDS): a killed run's digest is taken back after this

SEED = """
import datetime as dt
from django.utils import timezone
from paperboard.digests.models import Subscription
from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers.models import Paper, Submission

now = timezone.now()
records = []
for i in range(1, 4):
    records.append(PaperRecord(arxiv_id=f"2611.{i:05d}", title=f"Crash-proof paper {i}", abstract="A result. More.",
                               authors=["Ada Lovelace"], categories=["cs.LG"], published_at=now))
store.import_records(records)
for paper in Paper.objects.all():
    Submission.objects.create(paper=paper, day=timezone.localdate(now), submitted_at=now)
for i in range(%(readers)d):
    Subscription.objects.create(email=f"reader{i}@example.org", confirmed_at=now,
                                next_due_at=now - dt.timedelta(minutes=1))
print("seeded")
"""


def environment(data: Path, smtp_port: int | None = None) -> dict:
    env = dict(os.environ)
    env.pop("PAPERBOARD_DATABASE_URL", None)  # SQLite in the data dir, whatever the suite runs on
    env.update(PAPERBOARD_DATA_DIR=str(data), PAPERBOARD_DIGEST_LEASE_SECONDS=str(LEASE),
               PAPERBOARD_SECRET_KEY=STRONG_KEY)
    if smtp_port is not None:
        env["PAPERBOARD_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}?starttls=false&timeout=10"
    return env


def paperboard(*args, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*PAPERBOARD, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated database, made once for the module (migrating takes a while); each test copies it."""
    data = tmp_path_factory.mktemp("digest-db")
    r = paperboard("migrate", "--no-input", "-v", "0", env=environment(data), timeout=300)
    assert r.returncode == 0, r.stderr
    return data


@pytest.fixture
def data_dir(migrated, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(migrated, target)
    return target


def seed(data: Path, readers: int = READERS) -> None:
    r = paperboard("shell", "-c", SEED % {"readers": readers}, env=environment(data))
    assert r.returncode == 0 and "seeded" in r.stdout, r.stderr


def deliveries(data: Path) -> list[tuple[str, str, int]]:
    """(email, status, attempts) of every delivery, read straight from the database file."""
    with sqlite3.connect(data / "paperboard.sqlite3") as db:
        return db.execute(
            "SELECT s.email, d.status, d.attempts FROM digests_delivery d "
            "JOIN digests_subscription s ON s.id = d.subscription_id ORDER BY d.id"
        ).fetchall()


def kill_when_stalled(server, env: dict) -> float:
    """Start `digest send`, SIGKILL it while the server stalls; returns when it was killed (monotonic)."""
    run = subprocess.Popen([*PAPERBOARD, "digest", "send"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stalled.wait(90), "the run never reached the stalled digest"
        run.send_signal(signal.SIGKILL)
        run.wait(30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == -signal.SIGKILL
    return time.monotonic()


def restart_twice(env: dict, killed_at: float, server) -> None:
    """Restart at once (the interrupted digest is still leased), then again once its lease is over."""
    first = paperboard("digest", "send", env=env)
    assert first.returncode == 0, first.stderr
    assert max(server.received_by().values()) == 1  # nobody got a second digest
    time.sleep(max(0.0, killed_at + LEASE + 1 - time.monotonic()))
    second = paperboard("digest", "send", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("digests: 0 scheduled"), second.stdout


def test_a_run_killed_mid_conversation_and_restarted_sends_each_digest_exactly_once(data_dir, smtp_server):
    seed(data_dir)
    env = environment(data_dir, smtp_server.port)
    smtp_server.stall_at = ("rcpt", 4)  # the 4th digest: envelope sent, no DATA yet
    killed_at = kill_when_stalled(smtp_server, env)
    assert sorted(smtp_server.received_by().values()) == [1, 1, 1]
    restart_twice(env, killed_at, smtp_server)
    assert smtp_server.received_by() == {f"reader{i}@example.org": 1 for i in range(READERS)}
    rows = deliveries(data_dir)
    assert [status for _, status, _ in rows] == ["sent"] * READERS
    assert [attempts for _, _, attempts in rows] == [1, 1, 1, 2, 1, 1, 1, 1]  # the 4th was sent again


def test_a_run_killed_after_the_server_took_a_message_does_not_send_it_again(data_dir, smtp_server):
    seed(data_dir)
    env = environment(data_dir, smtp_server.port)
    smtp_server.stall_at = ("data", 4)  # the 4th digest is taken, and the answer never comes
    killed_at = kill_when_stalled(smtp_server, env)
    assert sorted(smtp_server.received_by().values()) == [1, 1, 1, 1]
    restart_twice(env, killed_at, smtp_server)
    assert smtp_server.received_by() == {f"reader{i}@example.org": 1 for i in range(READERS)}
    rows = deliveries(data_dir)
    assert [status for _, status, _ in rows] == ["sent"] * 3 + ["unknown"] + ["sent"] * 4


def test_the_worker_sends_what_is_due_and_stops_cleanly_on_sigterm(data_dir, smtp_server):
    seed(data_dir, readers=2)
    env = environment(data_dir, smtp_server.port)
    env["PAPERBOARD_INDEX_EVERY"] = "0"  # the digest schedule alone (tests/test_jobs*.py run the others)
    worker = subprocess.Popen([*PAPERBOARD, "worker", "--every", "1", "--interval", "0.2"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        smtp_server.wait_for(2, timeout=90)
        time.sleep(2.5)  # more runs come and go: nothing is sent twice
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, out
    assert "worker: stopped" in out
    assert smtp_server.received_by() == {"reader0@example.org": 1, "reader1@example.org": 1}
    with sqlite3.connect(data_dir / "paperboard.sqlite3") as db:
        runs = dict(db.execute("SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY status"))
    assert runs.get("SUCCESSFUL", 0) >= 2 and "FAILED" not in runs
