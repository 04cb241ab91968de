"""`paperboard index`: runs the registered indexers, skips those that cannot load, resumes after an interruption."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.search import indexing, lexical
from paperboard.search.query import parse

pytestmark = pytest.mark.django_db

LEXICAL_ONLY = ("paperboard.search.lexical:LexicalIndexer",)


@pytest.fixture
def papers():
    store.import_records([
        PaperRecord(arxiv_id=f"2507.{i:05d}", title=f"Indexable paper number {i}", abstract="About indexing.",
                    authors=["Ada Lovelace"], categories=["cs.IR"],
                    published_at=dt.datetime(2025, 7, 1, tzinfo=dt.UTC))
        for i in range(1, 11)
    ])
    lexical.LexicalIndexer().rebuild()
    return 10


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("index", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_index_builds_the_lexical_index(papers, monkeypatch):
    monkeypatch.setattr(indexing, "INDEXERS", LEXICAL_ONLY)
    assert lexical.search(parse("indexable"), 50) == []
    out, _ = run("--batch-size", "3")
    assert "lexical: indexed 10 papers" in out
    assert len(lexical.search(parse("indexable"), 50)) == 10
    out, _ = run()
    assert "lexical: up to date" in out


def test_rebuild_indexes_everything_again(papers, monkeypatch):
    monkeypatch.setattr(indexing, "INDEXERS", LEXICAL_ONLY)
    run()
    out, _ = run("--rebuild", "--only", "lexical")
    assert "index dropped" in out and "lexical: indexed 10 papers" in out


def test_an_indexer_that_cannot_be_imported_is_reported_and_skipped(papers, monkeypatch):
    monkeypatch.setattr(indexing, "INDEXERS", ("paperboard.search.no_such_module:Nope", *LEXICAL_ONLY))
    out, err = run()
    assert "no_such_module: skipped, cannot load paperboard.search.no_such_module:Nope" in err
    assert "ModuleNotFoundError" in err
    assert "lexical: indexed 10 papers" in out


def test_only_names_an_indexer(papers, monkeypatch):
    monkeypatch.setattr(indexing, "INDEXERS", ("paperboard.search.no_such_module:Nope", *LEXICAL_ONLY))
    with pytest.raises(CommandError, match="no indexer named 'fancy'"):
        run("--only", "fancy")
    with pytest.raises(CommandError, match="no indexer could be loaded"):
        run("--only", "no_such_module")
    with pytest.raises(CommandError):
        run("--batch-size", "0")


def test_an_interrupted_index_run_resumes_and_adds_up(papers, monkeypatch):
    """Ctrl-C after the first batch: that batch stays committed, and the next run indexes only the rest."""
    monkeypatch.setattr(indexing, "INDEXERS", LEXICAL_ONLY)
    from paperboard.search.management.commands import index as command

    real_update = command.Bar.update
    seen = []

    def interrupt_after_first_batch(self, done):
        seen.append(done)
        real_update(self, done)
        raise KeyboardInterrupt

    monkeypatch.setattr(command.Bar, "update", interrupt_after_first_batch)
    with pytest.raises(SystemExit) as stopped:
        run("--batch-size", "4")
    assert stopped.value.code == 130 and seen == [4]
    assert lexical.LexicalIndexer().pending() == 6
    assert len(lexical.search(parse("indexable"), 50)) == 4

    monkeypatch.setattr(command.Bar, "update", real_update)
    out, _ = run("--batch-size", "4")
    assert "lexical: indexed 6 papers" in out
    assert lexical.LexicalIndexer().pending() == 0
    assert len(lexical.search(parse("indexable"), 50)) == 10


def test_the_default_registry_names_lexical_first():
    assert indexing.INDEXERS[0] == "paperboard.search.lexical:LexicalIndexer"
