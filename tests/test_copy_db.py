"""`paperboard copy-db --to URL`: an SQLite instance moved to PostgreSQL keeps every row, verified."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

PG = "postgres://postgres@127.0.0.1:5432"

SEED = r"""
import django; django.setup()
import datetime as dt
from django.contrib.auth import get_user_model
from django.utils import timezone
from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers.models import Paper, Submission
store.import_records([PaperRecord(arxiv_id=f"2501.0000{i}", title=f"Paper {i} — “quoted” & ünïcode", abstract="An abstract.",
    authors=["Ada Lovelace", "Alan Turing"], categories=["cs.LG"], published_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC))
    for i in range(1, 6)])
User = get_user_model()
users = [User.objects.create_user(f"reader{i}", f"r{i}@example.org", "a long password 123") for i in range(3)]
for p in Paper.objects.all():
    Submission.objects.create(paper=p, submitter=users[0], day=timezone.localdate(), submitted_at=timezone.now())
print(Paper.objects.count(), User.objects.count())
"""


def pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(f"{PG}/postgres", connect_timeout=2).close()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.skipif(not pg_available(), reason="no PostgreSQL on 127.0.0.1:5432 (CI runs one)")
def test_copy_db_moves_every_row_from_sqlite_to_postgresql_and_verifies_it(tmp_path):
    import psycopg

    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOARD_")}
    env |= {"PAPERBOARD_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "paperboard.settings"}
    cli = [sys.executable, "-m", "paperboard"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True, timeout=300)
    seeded = subprocess.run([sys.executable, "-c", SEED], env=env, capture_output=True, text=True, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    name = f"pb_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        done = subprocess.run([*cli, "copy-db", "--to", f"{PG}/{name}"], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr + done.stdout
        assert "every table verified" in done.stdout
        with psycopg.connect(f"{PG}/{name}") as target:
            assert target.execute("SELECT count(*) FROM papers_paper").fetchone()[0] == 5
            assert target.execute("SELECT count(*) FROM auth_user").fetchone()[0] == 3
            assert target.execute("SELECT count(*) FROM papers_paperauthor").fetchone()[0] == 10
            title = target.execute("SELECT title FROM papers_paper WHERE arxiv_id = '2501.00001'").fetchone()[0]
            assert title == "Paper 1 — “quoted” & ünïcode"
        again = subprocess.run([*cli, "copy-db", "--to", f"{PG}/{name}"], env=env, capture_output=True, text=True,
                               timeout=600)
        assert again.returncode != 0 and "already holds papers or accounts" in again.stderr
        pg_env = env | {"PAPERBOARD_DATABASE_URL": f"{PG}/{name}"}
        indexed = subprocess.run([*cli, "index", "--only", "lexical"], env=pg_env, capture_output=True, text=True,
                                 timeout=300)
        assert indexed.returncode == 0, indexed.stderr
        new_id = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); from django.contrib.auth import get_user_model;"
             "print(get_user_model().objects.create_user('after', 'a@example.org', 'a long password 123').pk)"],
            env=pg_env, capture_output=True, text=True, timeout=120)
        assert new_id.returncode == 0 and int(new_id.stdout.strip()) > 3  # sequences moved past the copied ids
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
