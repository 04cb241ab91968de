"""Embedding elsewhere: `paperboard index --export-texts`, tools/embed_offline.py, `--import-vectors`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from paperboard.papers.models import Paper
from paperboard.search import semantic
from paperboard.search.offline_format import (
    WORD_MARGIN,
    check_of,
    cut,
    dequantise,
    quantise_int8,
    read_texts,
    save_vectors_file,
)
from paperboard.search.semantic import embed, offline, store
from tests.test_search_semantic import corpus  # noqa: F401 - a fixture
from tools import embed_offline

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vectors_in_tmp")]



def run(*args) -> str:
    out = io.StringIO()
    call_command("index", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def fake_vectors_file(path, texts_path, *, max_tokens=None, seed=0):
    """A vectors file for a texts file, with random unit vectors (what the tool writes, minus the model)."""
    header, ids, texts = read_texts(texts_path)
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(len(ids), embed.DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    save_vectors_file(
        path, ids, [check_of(t) for t in texts], vecs, model=header["model"],
        max_tokens=max_tokens or header["max_tokens"], dtype="float32",
    )
    return dict(zip(ids, vecs))


def test_exported_texts_embedded_by_the_tool_and_imported_equal_what_the_indexer_would_store(corpus, tmp_path):
    texts = tmp_path / "texts.jsonl.xz"
    assert "wrote 5 texts" in run("--export-texts", str(texts))
    out = tmp_path / "vectors.npz"
    assert embed_offline.main([str(texts), str(out), "--device", "cpu", "--dtype", "int8"]) == 0

    message = run("--import-vectors", str(out))
    assert "imported 5 vectors" in message
    assert semantic.SemanticIndexer().pending() == 0
    stored = store.load([p.pk for p in corpus.values()])
    for paper in corpus.values():
        local = embed.encode_one(embed.paper_text(paper.title, paper.abstract))
        assert float(stored[paper.pk] @ local) > 0.999
    hits = semantic.search("teaching robots to pick things up with their hands", limit=1)
    assert hits[0].paper_id == corpus["2501.10001"].pk


def test_export_lists_only_pending_papers_unless_all_is_asked(corpus, tmp_path):
    first = tmp_path / "first.jsonl"
    run("--export-texts", str(first))
    fake_vectors_file(tmp_path / "v.npz", first)
    run("--import-vectors", str(tmp_path / "v.npz"))
    assert "wrote 0 texts" in run("--export-texts", str(tmp_path / "again.jsonl"))
    assert "wrote 5 texts" in run("--export-texts", str(tmp_path / "all.jsonl.gz"), "--all")
    header, ids, texts = read_texts(tmp_path / "all.jsonl.gz")
    assert header["max_tokens"] == embed.max_tokens() and header["count"] == 5
    assert sorted(ids) == sorted(p.pk for p in corpus.values())


def test_a_paper_whose_text_changed_after_the_export_is_skipped_and_stays_pending(corpus, tmp_path):
    texts = tmp_path / "texts.jsonl"
    run("--export-texts", str(texts))
    fake_vectors_file(tmp_path / "v.npz", texts)
    changed = corpus["2501.10003"]
    Paper.objects.filter(pk=changed.pk).update(abstract="An entirely new abstract.", content_hash="new")
    message = run("--import-vectors", str(tmp_path / "v.npz"))
    assert "imported 4 vectors" in message and "1 skipped because the paper's text changed" in message
    assert changed.pk not in store.load([changed.pk])
    assert semantic.SemanticIndexer().pending() == 1


def test_importing_the_same_file_twice_stores_nothing_new(corpus, tmp_path):
    texts = tmp_path / "texts.jsonl"
    run("--export-texts", str(texts))
    fake_vectors_file(tmp_path / "v.npz", texts)
    run("--import-vectors", str(tmp_path / "v.npz"))
    seq = store.read_state().max_seq
    assert "imported 0 vectors" in run("--import-vectors", str(tmp_path / "v.npz"))
    assert store.read_state().max_seq == seq


def test_vectors_of_another_truncation_are_refused(corpus, tmp_path):
    texts = tmp_path / "texts.jsonl"
    run("--export-texts", str(texts))
    fake_vectors_file(tmp_path / "v.npz", texts, max_tokens=128)
    with pytest.raises(CommandError, match="all-MiniLM-L6-v2/128"):
        run("--import-vectors", str(tmp_path / "v.npz"))
    assert not store.has_embeddings()


def test_a_file_that_is_not_a_vectors_file_is_a_clear_error(corpus, tmp_path):
    bad = tmp_path / "v.npz"
    bad.write_text("hello")
    with pytest.raises(CommandError, match="not a vectors file"):
        run("--import-vectors", str(bad))


def test_texts_are_cut_after_enough_words_for_the_model_and_no_sooner():
    text = " ".join(f"w{i}" for i in range(1000))
    kept = cut(text, 256).split(" ")
    assert len(kept) == 256 + WORD_MARGIN and kept[-1] == f"w{256 + WORD_MARGIN - 1}"
    assert cut("short text", 256) == "short text"


def test_int8_transport_keeps_vectors_within_a_rounding_error():
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(200, embed.DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    q, scale = quantise_int8(vecs)
    back = dequantise({"vectors": q, "scale": scale})
    assert q.dtype == np.int8 and float(np.min(np.sum(back * vecs, axis=1))) > 0.9999


def test_a_texts_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"format": "something-else"}) + "\n")
    with pytest.raises(offline.OfflineError):
        read_texts(path)


def test_the_offline_tools_run_on_a_machine_without_the_app_configured(tmp_path):
    """tools/embed_offline.py and bench/standin_vectors.py run where no Django settings exist (a GPU box)."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(root)
    for script in ("tools/embed_offline.py", "bench/standin_vectors.py"):
        done = subprocess.run([sys.executable, str(root / script), "--help"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (script, done.stderr[-2000:])
        assert "usage" in done.stdout.lower()
