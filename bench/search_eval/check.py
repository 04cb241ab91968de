"""Validate the labelled search evaluation set `queries.jsonl` against the real data.

Run:  .venv/bin/python bench/search_eval/check.py [--queries FILE] [--corpus-dir DIR] [--seed FILE]

Checks (each failure is printed; the exit status is 1 when any check fails):
  * every line is a JSON object with id, query, relevant, kind, split, source, note of the right types;
    ids are unique; `kind` is one of KINDS, `split` tune|report, `source` seed|corpus;
  * every relevant arXiv id exists in the corpus (arxiv_corpus/part-00*.jsonl.gz, field `id`) or in the
    seed file (seed_papers.jsonl, field `arxiv_id`); a query whose source is `seed` has at least one
    relevant id from the seed file;
  * at least MIN_QUERIES queries, at least MIN_PER_SOURCE drawn from each source, at least MIN_KEYWORD
    keyword-style queries;
  * no query contains TITLE_WORDS (4) or more consecutive words of the title of any of its relevant papers
    (case-insensitive; words are runs of letters/digits, so "Second-Order" is two words);
  * splits follow the fixed rule of `expected_splits` (alternation within each source x kind group, in file
    order), so nobody moves a query between halves after seeing results; each split has >= MIN_PER_SPLIT.

The functions are imported by bench/search_quality.py (load_queries) and by test_metrics.py.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = (REPO / ".." / "shared" / "data").resolve()
QUERIES = HERE / "queries.jsonl"
CORPUS_DIR = DATA / "arxiv_corpus"
SEED_FILE = DATA / "seed_papers.jsonl"

KINDS = ("paraphrase", "description", "keyword", "author", "mixed")
SPLITS = ("tune", "report")
SOURCES = ("seed", "corpus")
FIELDS = {"id": str, "query": str, "relevant": list, "kind": str, "split": str, "source": str, "note": str}
MIN_QUERIES = 72
MIN_PER_SOURCE = 30
MIN_PER_SPLIT = 30
MIN_KEYWORD = 3
TITLE_WORDS = 4

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Lower-cased words: maximal runs of letters and digits (Unicode aware; `_` and `-` separate)."""
    return _WORD.findall(text.lower())


def shared_run(query: str, title: str, n: int = TITLE_WORDS) -> str | None:
    """The first run of `n` consecutive words of `title` that also appear consecutively in `query`."""
    q, t = words(query), words(title)
    grams = {tuple(t[i : i + n]) for i in range(len(t) - n + 1)}
    for i in range(len(q) - n + 1):
        if tuple(q[i : i + n]) in grams:
            return " ".join(q[i : i + n])
    return None


def expected_splits(queries: list[dict]) -> list[str]:
    """The split rule, stratified by source and kind so both halves get the same mix.

    Queries are grouped by (source, kind); groups are taken in the order SOURCES x KINDS, and within a group
    in file order the queries alternate between the two splits. A group starts with the split that has
    fewer queries of that source so far (tune on a tie), so odd-sized groups do not pile up on one side.
    Deterministic: it depends only on each query's source, kind and position in the file.
    """
    out: list[str | None] = [None] * len(queries)
    for source in [*SOURCES, None]:
        have = {s: 0 for s in SPLITS}
        for kind in [*KINDS, None]:
            group = [
                i for i, q in enumerate(queries)
                if (q.get("source") == source or (source is None and q.get("source") not in SOURCES))
                and (q.get("kind") == kind or (kind is None and q.get("kind") not in KINDS))
            ]
            first = 0 if have["tune"] <= have["report"] else 1
            for n, i in enumerate(group):
                split = SPLITS[(first + n) % 2]
                out[i] = split
                have[split] += 1
    return [s or SPLITS[0] for s in out]


def read_jsonl(path: Path | str) -> Iterator[dict]:
    """The objects of a JSON Lines file, in file order; blank lines are skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def corpus_records(corpus_dir: Path | str = CORPUS_DIR) -> Iterator[dict]:
    """Every record of the corpus parts (part-00*.jsonl.gz) under `corpus_dir`, part by part."""
    files = sorted(glob.glob(str(Path(corpus_dir) / "part-00*.jsonl.gz")))
    if not files:
        raise SystemExit(f"no corpus parts (part-00*.jsonl.gz) under {corpus_dir}")
    for name in files:
        with gzip.open(name, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


def load_queries(path: Path | str = QUERIES) -> list[dict]:
    """The queries, in file order (no validation: run check.py for that)."""
    return list(read_jsonl(path))


def load_titles(corpus_dir: Path | str = CORPUS_DIR, seed_file: Path | str = SEED_FILE) -> tuple[dict, dict]:
    """({arxiv_id: title} of the corpus, {arxiv_id: title} of the seed papers)."""
    corpus = {rec["id"]: rec["title"] for rec in corpus_records(corpus_dir)}
    seed = {rec["arxiv_id"]: rec["title"] for rec in read_jsonl(seed_file)}
    return corpus, seed


def validate(queries: list[dict], corpus: dict[str, str], seed: dict[str, str]) -> list[str]:
    """Every problem found, as one line each; [] when the file is valid."""
    problems: list[str] = []
    ids = collections.Counter(q.get("id") for q in queries)
    problems += [f"duplicate query id {i}" for i, n in ids.items() if n > 1]
    for q in queries:
        qid = q.get("id", "?")
        for name, typ in FIELDS.items():
            if not isinstance(q.get(name), typ):
                problems.append(f"{qid}: field {name!r} missing or not {typ.__name__}")
        if q.get("kind") not in KINDS:
            problems.append(f"{qid}: kind {q.get('kind')!r} not in {KINDS}")
        if q.get("split") not in SPLITS:
            problems.append(f"{qid}: split {q.get('split')!r} not in {SPLITS}")
        if q.get("source") not in SOURCES:
            problems.append(f"{qid}: source {q.get('source')!r} not in {SOURCES}")
        rel = q.get("relevant") if isinstance(q.get("relevant"), list) else []
        if not rel:
            problems.append(f"{qid}: no relevant ids")
        if len(set(rel)) != len(rel):
            problems.append(f"{qid}: duplicate relevant ids")
        text = q.get("query") if isinstance(q.get("query"), str) else ""
        if not text.strip():
            problems.append(f"{qid}: empty query")
        for aid in rel:
            if aid not in corpus and aid not in seed:
                problems.append(f"{qid}: relevant id {aid} is in neither the corpus nor the seed file")
                continue
            for title in {corpus.get(aid), seed.get(aid)} - {None}:
                run = shared_run(text, title)
                if run:
                    problems.append(f"{qid}: query shares {TITLE_WORDS}+ consecutive title words with {aid}: {run!r}")
        if q.get("source") == "seed" and not any(a in seed for a in rel):
            problems.append(f"{qid}: source is seed but no relevant id is a seed paper")
    if len(queries) < MIN_QUERIES:
        problems.append(f"only {len(queries)} queries (need >= {MIN_QUERIES})")
    by_source = collections.Counter(q.get("source") for q in queries)
    for s in SOURCES:
        if by_source[s] < MIN_PER_SOURCE:
            problems.append(f"only {by_source[s]} queries drawn from {s} (need >= {MIN_PER_SOURCE})")
    if sum(q.get("kind") == "keyword" for q in queries) < MIN_KEYWORD:
        problems.append(f"fewer than {MIN_KEYWORD} keyword queries")
    for q, want in zip(queries, expected_splits(queries)):
        if q.get("split") != want:
            problems.append(f"{q.get('id')}: split {q.get('split')!r} breaks the split rule of expected_splits() (expected {want!r})")
    by_split = collections.Counter(q.get("split") for q in queries)
    for s in SPLITS:
        if by_split[s] < MIN_PER_SPLIT:
            problems.append(f"split {s} has {by_split[s]} queries (need >= {MIN_PER_SPLIT})")
    return problems


def summary(queries: list[dict], corpus: dict[str, str], seed: dict[str, str]) -> str:
    """Counts per split, source and kind, and how many relevant ids live where."""
    lines = [f"{len(queries)} queries"]
    table = collections.Counter((q["split"], q["source"]) for q in queries)
    for split in SPLITS:
        n = sum(v for (sp, _), v in table.items() if sp == split)
        parts = ", ".join(f"{src} {table[(split, src)]}" for src in SOURCES)
        lines.append(f"  {split:<7} {n:>3}  ({parts})")
    kinds = collections.Counter((q["kind"], q["split"]) for q in queries)
    lines.append("  kinds:   " + ", ".join(
        f"{k} {kinds[(k, 'tune')] + kinds[(k, 'report')]} ({kinds[(k, 'tune')]}/{kinds[(k, 'report')]})" for k in KINDS
    ) + "   (tune/report)")
    rel = [a for q in queries for a in q["relevant"]]
    where = collections.Counter(
        "both" if (a in corpus and a in seed) else ("corpus only" if a in corpus else "seed only") for a in set(rel)
    )
    lines.append(
        f"  relevant ids: {len(rel)} judgements, {len(set(rel))} distinct papers "
        f"({', '.join(f'{k} {v}' for k, v in sorted(where.items()))}); "
        f"per query: min {min(map(len, (q['relevant'] for q in queries)))}, "
        f"mean {len(rel) / len(queries):.2f}, max {max(map(len, (q['relevant'] for q in queries)))}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", default=str(QUERIES))
    ap.add_argument("--corpus-dir", default=str(CORPUS_DIR))
    ap.add_argument("--seed", default=str(SEED_FILE))
    args = ap.parse_args(argv)
    queries = load_queries(args.queries)
    corpus, seed = load_titles(args.corpus_dir, args.seed)
    print(f"corpus: {len(corpus):,} papers; seed: {len(seed)} papers ({len(set(seed) & set(corpus))} also in the corpus)")
    problems = validate(queries, corpus, seed)
    if not any("field" in p or "not in" in p for p in problems):
        print(summary(queries, corpus, seed))
    for p in problems:
        print("FAIL", p)
    print("OK: all checks passed" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
