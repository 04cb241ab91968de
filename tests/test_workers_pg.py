"""Several sender processes on one PostgreSQL database, one of them killed mid-conversation: every due
subscriber still gets exactly one digest (claims by compare-and-set, leases, the hand-over record)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.smtp import smtp_server  # noqa: F401  (the fixture)
from tests.test_copy_db import PG, pg_available
from tests.test_digests_crash import LEASE, ROOT, SEED

PAPERBOARD = [sys.executable, "-m", "paperboard"]
READERS = 450  # more than two chunks (sending.CHUNK = 200): the three runs each claim one
PROCESSES = 3


@pytest.fixture
def pg_database():
    import psycopg

    name = f"pb_workers_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield f"{PG}/{name}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.skipif(not pg_available(), reason="no PostgreSQL on 127.0.0.1:5432 (CI runs one)")
def test_three_senders_on_postgresql_one_killed_mid_job_send_each_digest_exactly_once(
    pg_database, smtp_server, tmp_path  # noqa: F811
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOARD_")}
    env |= {"PAPERBOARD_DATA_DIR": str(tmp_path), "PAPERBOARD_DATABASE_URL": pg_database,
            "PAPERBOARD_DIGEST_LEASE_SECONDS": str(LEASE),
            "PAPERBOARD_SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}?starttls=false&timeout=10"}

    def paperboard(*args, timeout=300):
        return subprocess.run([*PAPERBOARD, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)

    assert paperboard("migrate", "--no-input", "-v", "0").returncode == 0
    seeded = paperboard("shell", "-c", SEED % {"readers": READERS})
    assert "seeded" in seeded.stdout, seeded.stderr
    smtp_server.stall_at = ("rcpt", READERS // 3)  # one conversation hangs after its envelope, before DATA
    runs = [subprocess.Popen([*PAPERBOARD, "digest", "send"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(PROCESSES)]
    try:
        assert smtp_server.stalled.wait(120), "no run reached the stalled conversation"
        # The others finish what they claimed; the one left running is the one stuck mid-conversation.
        deadline = time.monotonic() + 120
        while sum(r.poll() is None for r in runs) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        stuck = [r for r in runs if r.poll() is None]
        assert len(stuck) == 1, [r.poll() for r in runs]
        stuck[0].send_signal(signal.SIGKILL)
        stuck[0].wait(30)
        killed_at = time.monotonic()
    finally:
        for r in runs:
            if r.poll() is None:
                r.kill()
                r.wait()
    assert stuck[0].returncode == -signal.SIGKILL
    assert all(r.returncode == 0 for r in runs if r is not stuck[0])
    assert max(smtp_server.received_by().values()) == 1
    time.sleep(max(0.0, killed_at + LEASE + 1 - time.monotonic()))
    again = [subprocess.Popen([*PAPERBOARD, "digest", "send"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(PROCESSES)]
    for r in again:
        r.wait(300)
        assert r.returncode == 0, r.stdout.read()
    assert smtp_server.received_by() == {f"reader{i}@example.org": 1 for i in range(READERS)}
