"""`paperboard backup` / `paperboard restore`: a round trip gives identical rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from paperboard.ops import backup
from tests.conftest import make_paper, put_on_feed

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def some_data():
    today = timezone.localdate().isoformat()
    for i in range(3):
        put_on_feed(make_paper(f"2501.0000{i + 1}", f"Paper {i} with “quotes” & ünïcode"), today, votes=i + 1)


def test_a_backup_restored_into_an_empty_instance_gives_identical_rows(some_data, tmp_path):
    before = backup.digest()
    assert before["papers_paper"][0] == 3 and before["papers_vote"][0] == 6
    path = tmp_path / "site.backup"
    assert "backup written to" in run("backup", str(path))
    call_command("flush", "--no-input")
    assert backup.is_empty() and backup.digest() != before
    assert "restored" in run("restore", str(path))
    assert backup.digest() == before


def test_restore_refuses_an_instance_that_has_data_unless_forced(some_data, tmp_path):
    path = tmp_path / "site.backup"
    run("backup", str(path))
    with pytest.raises(CommandError, match="already has papers or accounts"):
        run("restore", str(path))
    run("restore", str(path), "--force")
    assert backup.digest()["papers_paper"][0] == 3


def test_a_backup_of_the_other_database_or_no_backup_at_all_is_a_clear_error(db, tmp_path):
    other = tmp_path / "other.backup"
    other.write_bytes(backup.PG_MAGIC + b"..." if connection.vendor == "sqlite" else backup.SQLITE_MAGIC + b"...")
    with pytest.raises(CommandError, match=f"but this instance runs on {connection.vendor}"):
        run("restore", str(other))
    junk = tmp_path / "junk.backup"
    junk.write_text("hello")
    with pytest.raises(CommandError, match="not a Paperboard backup"):
        run("restore", str(junk))
    with pytest.raises(CommandError, match="no such file"):
        run("restore", str(tmp_path / "missing"))
