"""The compact postings of the keyword index (SQLite): FTS5's bm25() to the last bit, kept in step with
every write, built by `paperboard index`, and FTS5 answering whenever they cannot."""

import datetime as dt
import json

import numpy as np
import pytest
from django.db import connection

from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers.models import Paper
from paperboard.search import lexical
from paperboard.search.lexical import common, compact, postings, relaxed
from paperboard.search.lexical.postings import builder, delta
from paperboard.search.query import parse

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def _sqlite_and_a_fresh_process(request, settings, tmp_path):
    if connection.vendor != "sqlite" and not request.node.name.startswith("test_postgresql"):
        pytest.skip("the compact postings are SQLite's (PostgreSQL ranks in the database)")
    settings.DATA_DIR = tmp_path
    postings.forget()
    yield
    postings.forget()


def record(arxiv_id, title, abstract, *, authors=("Ada Lovelace",), published="2025-01-02", **extra):
    return PaperRecord(
        arxiv_id=arxiv_id, title=title, abstract=abstract, authors=list(authors), categories=["cs.LG"],
        published_at=dt.datetime.fromisoformat(published).replace(tzinfo=dt.UTC), **extra,
    )


def add(*records):
    store.import_records(list(records))


@pytest.fixture
def corpus():
    add(
        record("2501.00001", "Few-shot learning with state-of-the-art transformers",
               "We study few-shot learning. Few shot prompts help; the state of the art moves fast.",
               authors=("Yann LeCun", "Ada Lovelace")),
        record("2501.00002", "Fine-tuning language models on few examples",
               "Fine tuning with few-shot examples, and fine-tuning again: shot after shot.",
               authors=("Geoffrey Hinton",), published="2024-06-01"),
        record("2501.00003", "Graph neural networks for molecules",
               "A survey of message passing on molecular graphs; networks of networks.",
               authors=("Marie Curie",), published="2023-03-15"),
        record("2501.00004", "End-to-end speech recognition",
               "An end-to-end model for speech, trained end to end on text-to-speech output.",
               authors=("Alan Turing", "Grace Hopper"), published="2025-02-20"),
        record("2501.00005", "Diffusion models beat GANs",
               "Denoising diffusion for image synthesis; learning to denoise, step by step, state by state.",
               authors=("Prafulla Dhariwal",), published="2021-05-11"),
        record("2501.00006", "Schrödinger bridges for generative modelling",
               "Entropic optimal transport between noise and data; a Schrodinger bridge learns the path.",
               authors=("Erwin Schrödinger",), published="2022-01-01"),
    )


def fts5(match: str) -> dict[int, float]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT rowid, -bm25(search_fts, {', '.join(map(str, lexical.WEIGHTS))}) FROM search_fts "
                    "WHERE search_fts MATCH %s", [match])
        return {int(pid): score for pid, score in cur.fetchall()}


def as_dict(found) -> dict[int, float]:
    ids, scores = found
    return dict(zip(ids.tolist(), scores.tolist()))


QUERIES = [
    "few-shot learning", "fine-tuning few-shot", "state-of-the-art", "end-to-end speech", "networks",
    "graph neural networks molecules", "\"few shot\" learning", "learning -diffusion", "diffusion -\"state by state\"",
    "schrodinger bridge", "lecun", "text-to-speech model", "the of and", "learning denoise transformers speech",
]


@pytest.mark.parametrize("text", QUERIES)
def test_scores_are_fts5s_bm25_to_the_last_bit(corpus, text):
    q = parse(text)
    words = lexical.content_words(q)
    phrases, excluded = compact._phrases_and_exclusions(q)
    strict = postings.strict_scores(words, phrases, excluded, common.MATCH_DEPTH)
    assert strict is not None
    assert as_dict(strict) == fts5(lexical.fts_match(q))  # same papers, same floats (==, not approx)
    relaxed = postings.relaxed_scores(words, phrases, excluded)
    if words:
        assert as_dict(relaxed) == fts5(lexical.fts_match(q, any_words=words))


def ranked(text, limit=20, **kwargs):
    return [(h.paper_id, h.score) for h in lexical.search(parse(text), limit, **kwargs)]


def without_postings(monkeypatch):
    monkeypatch.setattr(delta, "current", lambda: None)


@pytest.mark.parametrize("text", QUERIES + ["few-shot fine-tuning speech molecules", "learning"])
def test_searches_answer_what_fts5_answers(corpus, monkeypatch, text):
    got = [ranked(text), ranked(text, 2), ranked(text, 2, offset=2)]
    assert postings.postings().view is not None  # ranked from the postings
    without_postings(monkeypatch)
    lexical.forget_counts()
    assert got == [ranked(text), ranked(text, 2), ranked(text, 2, offset=2)]


def test_word_counts_come_from_the_postings(corpus, monkeypatch):
    counts = lexical.doc_counts(["few-shot", "learning", "networks", "zzz", "state-of-the-art"])
    monkeypatch.setattr(relaxed, "_count_now", lambda *a: pytest.fail("asked FTS5 to count"))
    assert counts == {"few-shot": 2, "learning": 3, "networks": 1, "zzz": 0, "state-of-the-art": 1}
    assert postings.tokens(["Networks", "fine-tuning", "Schrödinger"]) == {
        "Networks": ("network",), "fine-tuning": ("fine", "tune"), "Schrödinger": ("schroding",)}


def test_hidden_papers_never_appear_and_ties_go_to_upvotes_then_recency(corpus, monkeypatch):
    Paper.objects.filter(arxiv_id="2501.00001").update(hidden=True)
    hidden = Paper.objects.get(arxiv_id="2501.00001").pk
    assert hidden not in [pid for pid, _ in ranked("few-shot learning")]
    add(record("2502.00001", "Quasars", "x"), record("2502.00002", "Quasars", "x", published="2025-06-01"),
        record("2502.00003", "Quasars", "x", published="2024-01-01"))
    Paper.objects.filter(arxiv_id="2502.00003").update(upvotes=5)
    order = [Paper.objects.get(pk=pid).arxiv_id for pid, _ in ranked("quasars")]
    assert order == ["2502.00003", "2502.00002", "2502.00001"]  # equal scores: upvotes, then the newer
    without_postings(monkeypatch)
    assert [Paper.objects.get(pk=pid).arxiv_id for pid, _ in ranked("quasars")] == order


def files_only(monkeypatch):
    """Behave like a large index: postings come from files that `paperboard index` writes."""
    monkeypatch.setattr(builder, "LAZY_BUILD_LIMIT", 0)


def test_paperboard_index_writes_the_files_and_a_new_process_maps_them(corpus, monkeypatch, tmp_path):
    files_only(monkeypatch)
    indexer = lexical.LexicalIndexer()
    assert postings.current() is None  # no files yet: FTS5 answers
    assert indexer.pending() == 6  # the postings of every indexed paper are missing
    assert indexer.run() == 6
    assert indexer.pending() == 0
    m = postings.read_manifest()
    assert m["papers"] == 6 and (tmp_path / "lexical" / m["folder"] / "docs.npy").exists()
    postings.forget()  # a new process
    view = postings.current()
    assert view is not None and view.base.path is not None and postings.postings().events["built"] == 0
    assert ranked("few-shot learning")[0][0] == Paper.objects.get(arxiv_id="2501.00001").pk


def test_new_edited_deleted_and_hidden_papers_count_at_once(corpus, monkeypatch):
    files_only(monkeypatch)
    lexical.LexicalIndexer().run()
    queries = ["few-shot learning", "quasar spectra", "graph networks", "end-to-end speech", "schrodinger"]
    before = {t: ranked(t) for t in queries}
    add(record("2503.00001", "Quasar spectra with few-shot graph networks", "End-to-end quasar spectra."))
    add(record("2501.00003", "Quasars for molecules", "Spectra only.", authors=("Marie Curie",),
               published="2023-03-15", version=2))  # the graph paper's text changes
    Paper.objects.filter(arxiv_id="2501.00006").delete()
    lexical.LexicalIndexer().remove_orphans()
    Paper.objects.filter(arxiv_id="2501.00004").update(hidden=True)
    got = {t: ranked(t) for t in queries}
    p = postings.postings()
    assert p.view is not None and p.view.base.path is not None and p.events["delta_papers"] == 3
    without_postings(monkeypatch)
    lexical.forget_counts()
    assert got == {t: ranked(t) for t in queries}
    assert got != before


def test_too_many_changed_papers_hand_the_search_back_to_fts5(corpus, monkeypatch):
    files_only(monkeypatch)
    lexical.LexicalIndexer().run()
    monkeypatch.setattr(delta, "DIRTY_LIMIT", 1)
    add(record("2503.00001", "Quasars", "a"), record("2503.00002", "Quasars again", "b"))
    assert postings.current() is None
    assert [Paper.objects.get(pk=pid).arxiv_id for pid, _ in ranked("quasars")] == ["2503.00001", "2503.00002"]
    monkeypatch.setattr(builder, "REBUILD_AT", 1)
    assert lexical.LexicalIndexer().pending() == 2  # `paperboard index` will write new files
    lexical.LexicalIndexer().run()
    assert postings.current() is not None


def test_a_process_with_old_files_maps_the_newer_ones_when_the_log_was_pruned(corpus, monkeypatch):
    files_only(monkeypatch)
    lexical.LexicalIndexer().run()
    assert postings.current() is not None
    add(record("2503.00001", "Quasars", "a"))
    assert postings.current().delta.dirty.tolist() == [Paper.objects.get(arxiv_id="2503.00001").pk]
    postings.save(postings.build())  # another process writes newer files and prunes the log
    add(record("2503.00002", "Quasars again", "b"))
    view = postings.current()
    assert view is not None and view.base.seq > 0
    assert len(view.delta.dirty) == 1  # only the paper logged after the newer files
    assert len(ranked("quasars")) == 2


def test_a_small_index_builds_its_postings_in_memory_and_prunes_its_log(corpus, monkeypatch):
    view = postings.current()
    assert view is not None and view.base.path is None and postings.read_manifest() is None
    assert lexical.LexicalIndexer().pending() == 0  # no files needed
    monkeypatch.setattr(builder, "LOG_KEEP", 0)
    lexical.LexicalIndexer().run()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM search_lexicallog")
        assert cur.fetchone()[0] == 0
    add(record("2503.00001", "Quasars", "a"))
    assert len(ranked("quasars")) == 1  # the gap in the log: built again in memory


def test_rebuilding_the_index_starts_a_new_epoch(corpus, monkeypatch):
    files_only(monkeypatch)
    indexer = lexical.LexicalIndexer()
    indexer.run()
    epoch = postings.read_manifest()["epoch"]
    indexer.rebuild()
    assert postings.read_state() is None
    assert ranked("few-shot learning") == []  # an empty index, whoever answers
    assert indexer.run() == 6
    assert postings.read_manifest()["epoch"] != epoch and postings.current() is not None


def test_weights_that_are_not_whole_numbers_leave_ranking_to_fts5(corpus, monkeypatch):
    monkeypatch.setattr(common, "WEIGHTS", (10.5, 4.0, 1.0))
    assert postings.build() is None and postings.current() is None
    assert ranked("few-shot learning")[0][1] == pytest.approx(fts5('"few-shot" AND "learning"')[
        Paper.objects.get(arxiv_id="2501.00001").pk])


def test_a_heartbeat_that_fails_is_raised_once_the_files_are_written(corpus, monkeypatch):
    monkeypatch.setattr(builder._Ticker, "TICK_SECONDS", 0.0)

    def tick():
        raise TimeoutError("out of time")

    with pytest.raises(TimeoutError):
        postings.rebuild_files(tick=tick)
    assert postings.read_manifest()["papers"] == 6


def test_offsets_past_16k_tokens_widen_the_codes(db):
    authors = [f"Author{i} Middle{i} Last{i}" for i in range(6000)]  # 18,000 tokens in the authors column
    add(record("2504.00001", "Big collaboration", "x", authors=authors),
        record("2504.00002", "Small team", "Author5999 Middle5999 Last5999 wrote this.", authors=("A B",)))
    view = postings.current()
    assert view.base.code_col == postings.POS_COL
    q = parse('"author5999 middle5999 last5999"')
    assert as_dict(postings.strict_scores([], list(q.phrases), [], 100)) == fts5('"author5999 middle5999 last5999"')


def test_the_files_agree_with_a_build_in_memory(corpus, monkeypatch):
    files_only(monkeypatch)
    lexical.LexicalIndexer().run()
    mapped = postings.load(postings.read_manifest())
    built = postings.build()
    for name in postings.ARRAYS:
        assert np.array_equal(np.asarray(getattr(mapped, name)), np.asarray(getattr(built, name))), name
    assert json.loads((postings.directory() / "manifest.json").read_text())["format"] == postings.FORMAT


def test_postgresql_keeps_ranking_in_the_database(corpus):
    if connection.vendor == "sqlite":
        pytest.skip("PostgreSQL only")
    assert postings.current() is None and postings.stale() == 0
    assert lexical.LexicalIndexer().pending() == 0
    assert ranked("few-shot learning")[0][0] == Paper.objects.get(arxiv_id="2501.00001").pk
