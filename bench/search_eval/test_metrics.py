"""Golden examples for metrics.py (values worked out by hand below) and unit checks of check.py's rules.

Run:  .venv/bin/python -m pytest bench/search_eval/test_metrics.py -q -p no:django
  or  .venv/bin/python bench/search_eval/test_metrics.py        (no pytest needed)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import check  # noqa: E402
import metrics as m  # noqa: E402

L2_3 = math.log2(3)  # discount at rank 2 is 1/log2(3) = 0.6309297535714575
L2_4 = 2.0  # rank 3: 1/log2(4) = 0.5
L2_5 = math.log2(5)  # rank 4: 0.43067655807339306


def close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-12


# --- reciprocal rank ---------------------------------------------------------------------------------


def test_rr_first_position():
    assert m.reciprocal_rank(["a", "b", "c"], {"a"}) == 1.0


def test_rr_third_position():
    # first relevant result at rank 3 -> 1/3
    assert close(m.reciprocal_rank(["x", "y", "a", "b"], {"a", "b"}), 1 / 3)


def test_rr_outside_cutoff_is_zero():
    ranked = [f"d{i}" for i in range(10)] + ["a"]  # "a" at rank 11
    assert m.reciprocal_rank(ranked, {"a"}, k=10) == 0.0
    assert close(m.reciprocal_rank(ranked, {"a"}, k=11), 1 / 11)


def test_rr_empty_result_list():
    assert m.reciprocal_rank([], {"a"}) == 0.0


# --- recall ------------------------------------------------------------------------------------------


def test_recall_two_of_three():
    # relevant {a, b, c}; top-10 holds a (rank 2) and c (rank 5) -> 2/3
    assert close(m.recall_at_k(["x", "a", "y", "z", "c", "w"], {"a", "b", "c"}), 2 / 3)


def test_recall_cutoff():
    # relevant {a, b}; a at rank 1, b at rank 3; with k=2 only a counts -> 1/2
    assert m.recall_at_k(["a", "x", "b"], {"a", "b"}, k=2) == 0.5
    assert m.recall_at_k(["a", "x", "b"], {"a", "b"}, k=3) == 1.0


def test_recall_more_relevant_than_k():
    # 12 relevant ids, all 10 slots relevant -> recall 10/12 (recall@k cannot reach 1 here)
    rel = {f"r{i}" for i in range(12)}
    assert close(m.recall_at_k(sorted(rel), rel, k=10), 10 / 12)


# --- nDCG --------------------------------------------------------------------------------------------


def test_ndcg_perfect_single():
    assert m.ndcg_at_k(["a", "x"], {"a"}) == 1.0


def test_ndcg_single_relevant_at_rank_2():
    # DCG = 1/log2(3); IDCG = 1 -> 0.6309297535714575
    assert close(m.ndcg_at_k(["x", "a"], {"a"}), 1 / L2_3)
    assert close(m.ndcg_at_k(["x", "a"], {"a"}), 0.6309297535714575)


def test_ndcg_two_relevant_at_ranks_1_and_3():
    # DCG = 1 + 1/2 = 1.5 ; IDCG (2 relevant) = 1 + 1/log2(3) = 1.6309297535714575 -> 0.9197207891481876
    got = m.ndcg_at_k(["a", "x", "b"], {"a", "b"})
    assert close(got, 1.5 / (1 + 1 / L2_3))
    assert close(got, 0.9197207891481876)


def test_ndcg_one_of_three_found_at_rank_4():
    # DCG = 1/log2(5) = 0.430676558; IDCG = 1 + 1/log2(3) + 1/2 = 2.1309297535714578 -> 0.20210734650054757
    got = m.ndcg_at_k(["w", "x", "y", "c"], {"a", "b", "c"})
    assert close(got, (1 / L2_5) / (1 + 1 / L2_3 + 1 / L2_4))
    assert close(got, 0.20210734650054757)


def test_ndcg_ideal_is_capped_at_k():
    # 12 relevant, k = 10, every slot relevant -> nDCG 1 (ideal uses min(k, |rel|) = 10 gains)
    rel = {f"r{i}" for i in range(12)}
    assert close(m.ndcg_at_k(sorted(rel), rel, k=10), 1.0)


def test_ndcg_none_found():
    assert m.ndcg_at_k(["x", "y"], {"a"}) == 0.0


# --- duplicates, errors, aggregation ------------------------------------------------------------------


def test_duplicates_count_once():
    # "a" listed twice: second copy is ignored, so "b" moves up to rank 2 within the distinct top-k
    ranked = ["a", "a", "b"]
    assert m.recall_at_k(ranked, {"a", "b"}, k=2) == 1.0
    assert m.ndcg_at_k(ranked, {"a", "b"}, k=2) == 1.0
    assert m.reciprocal_rank(["x", "x", "a"], {"a"}) == 0.5


def test_no_relevant_is_an_error():
    for fn in (m.reciprocal_rank, m.recall_at_k, m.ndcg_at_k):
        try:
            fn(["a"], set())
        except ValueError:
            pass
        else:
            raise AssertionError(f"{fn.__name__} accepted an empty relevant set")


def test_aggregate_by_hand():
    # q1: relevant a at rank 1  -> rr 1,   recall 1,   ndcg 1
    # q2: relevant b at rank 2  -> rr 1/2, recall 1/2 (c missing), ndcg (1/log2 3)/(1 + 1/log2 3)
    # q3: nothing               -> 0, 0, 0
    rows = [
        m.per_query(["a", "x"], {"a"}),
        m.per_query(["x", "b"], {"b", "c"}),
        m.per_query(["x", "y"], {"z"}),
    ]
    agg = m.aggregate(rows)
    assert agg["n"] == 3
    assert close(agg["mrr"], (1 + 0.5 + 0) / 3)
    assert close(agg["recall"], (1 + 0.5 + 0) / 3)
    assert close(agg["ndcg"], (1 + (1 / L2_3) / (1 + 1 / L2_3) + 0) / 3)
    assert close(agg["hit_rate"], 2 / 3)


def test_mean_of_nothing():
    assert m.mean([]) == 0.0
    assert m.aggregate([])["n"] == 0


# --- check.py rules --------------------------------------------------------------------------------------


def test_title_overlap_rule():
    title = "The False Promise of Imitating Proprietary LLMs"
    assert check.shared_run("false promise of imitating chatbots", title) == "false promise of imitating"
    assert check.shared_run("is imitating proprietary LLMs a false promise", title) is None  # only 3 in a row
    # hyphens split words, case is ignored
    assert check.shared_run("optimal bert surgeon Second-Order pruning", "Accurate Second-Order Pruning for LLMs") is None
    assert check.shared_run("accurate SECOND-order pruning", "Accurate Second-Order Pruning for LLMs") is not None


def test_split_rule_alternates_within_source_and_kind():
    qs = [{"source": "seed", "kind": "paraphrase"}] * 3 + [{"source": "seed", "kind": "keyword"}] * 3
    qs += [{"source": "corpus", "kind": "paraphrase"}] * 2
    got = check.expected_splits(qs)
    # seed paraphrase: tune, report, tune (tune 2, report 1) -> seed keyword starts on report: report, tune, report
    assert got[:3] == ["tune", "report", "tune"]
    assert got[3:6] == ["report", "tune", "report"]
    assert got[6:] == ["tune", "report"]


def test_validate_flags_problems():
    corpus = {"2301.00001": "A Paper About Something Quite Specific"}
    seed = {"2301.00002": "Another Seed Paper Title Here"}
    good = {"id": "q1", "query": "something specific", "relevant": ["2301.00001"], "kind": "paraphrase",
            "split": "tune", "source": "corpus", "note": ""}
    bad_id = dict(good, id="q2", relevant=["9999.99999"], split="tune", kind="keyword")
    leak = dict(good, id="q3", query="paper about something quite", split="report")
    problems = check.validate([good, bad_id, leak], corpus, seed)
    text = "\n".join(problems)
    assert "9999.99999" in text
    assert "q3: query shares" in text
    assert "only 3 queries" in text


if __name__ == "__main__":
    tests = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_") and callable(fn)]
    failed = 0
    for name, fn in tests:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}: {exc!r}")
    print(f"{len(tests) - failed}/{len(tests)} passed")
    sys.exit(1 if failed else 0)
