"""Scale-up data: a corpus of N papers synthesised from the real one, with vectors to match.

    # 1. records: every real paper once, then copies under new arXiv ids (years 2040+) until N in all
    .venv/bin/python bench/synth_corpus.py records --total 1000000 -o var/scale1m/synth.jsonl.gz
    # 2. import them (`paperboard import`), index the words (`paperboard index --only lexical`) and export
    #    the texts (`paperboard index --export-texts texts.jsonl --all`), then
    .venv/bin/python bench/synth_corpus.py vectors --texts var/scale1m/texts.jsonl \\
        --source var/vectors/*.npz -o var/scale1m/vectors
    #    and `paperboard index --import-vectors var/scale1m/vectors/*.npz`

A copy keeps its source's title, abstract, authors, categories and dates (so word statistics scale as a
bigger archive of the same fields would, duplicates included) and gets its source's embedding plus a
little Gaussian noise (sigma 0.02 per dimension, cosine ~0.93 to the source), so copies are near but not
on top of each other. Source vectors are matched by the text check that `tools/embed_offline.py` records.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "data" / "arxiv_corpus"

from paperboard.search.offline_format import check_of, dequantise, read_texts, save_vectors_file  # noqa: E402


def records(total: int, out: Path) -> None:
    sources = []
    for part in sorted(CORPUS.glob("part-*.jsonl.gz")):
        with gzip.open(part, "rt", encoding="utf-8") as fh:
            sources += [line for line in fh if line.strip()]
    need = max(0, total - len(sources))
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=1) as fh:
        for i in range(need):
            item = json.loads(sources[i % len(sources)])
            month, number = divmod(i, 99_999)
            item["id"] = f"{40 + month // 12:02d}{month % 12 + 1:02d}.{number + 1:05d}"
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{need:,} synthetic records written to {out} (+ {len(sources):,} real ones = {need + len(sources):,})")


def vectors(texts: Path, source: list[Path], out: Path, shard: int = 100_000, sigma: float = 0.02) -> None:
    by_check: dict[int, np.ndarray] = {}
    model = max_tokens = None
    for path in source:
        data = np.load(path)
        model, max_tokens = str(data["model"]), int(data["max_tokens"])
        for c, v in zip(data["check"].tolist(), dequantise(data)):
            by_check[int(c)] = v
    header, ids, items = read_texts(texts)
    rng = np.random.default_rng(0)
    out.mkdir(parents=True, exist_ok=True)
    missing = 0
    for start in range(0, len(ids), shard):
        chunk_ids, checks, vecs = [], [], []
        for pid, text in zip(ids[start : start + shard], items[start : start + shard]):
            c = check_of(text)
            base = by_check.get(c)
            if base is None:
                missing += 1
                continue
            v = base + rng.normal(scale=sigma, size=base.shape).astype(np.float32)
            chunk_ids.append(pid)
            checks.append(c)
            vecs.append(v / np.linalg.norm(v))
        save_vectors_file(out / f"v{start // shard:03d}.npz", chunk_ids, checks, np.array(vecs),
                          model=model, max_tokens=max_tokens, dtype="int8")
    print(f"vectors for {len(ids) - missing:,} papers in {out} ({missing:,} without a source vector)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("records")
    r.add_argument("--total", type=int, default=1_000_000)
    r.add_argument("-o", "--out", type=Path, required=True)
    v = sub.add_parser("vectors")
    v.add_argument("--texts", type=Path, required=True)
    v.add_argument("--source", type=Path, nargs="+", required=True)
    v.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    if args.cmd == "records":
        records(args.total, args.out)
    else:
        vectors(args.texts, args.source, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
