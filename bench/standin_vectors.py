"""Stand-in paper vectors for LATENCY measurements only: cheap, deterministic, and not embeddings.

    export PAPERBOARD_DATA_DIR=var/searcheval
    .venv/bin/paperboard index --export-texts var/searcheval/texts.jsonl --all
    .venv/bin/python bench/standin_vectors.py var/searcheval/texts.jsonl var/searcheval/standin.npz
    .venv/bin/paperboard index --import-vectors var/searcheval/standin.npz

Embedding the 275k-paper corpus with the real model takes hours on a 2-core CPU (about 95 s on a GPU, see
docs/search.md). When no real vectors are at hand, this script gives every paper a vector in the format of
`tools/embed_offline.py` (the same header model and truncation, the same per-text check), so that
`paperboard index --import-vectors` stores it like a real one and the in-process vector index has the
corpus's full size:

    vector(paper) = normalise( sum over the paper's words w of R[hash(w) mod BUCKETS] )

a seeded Gaussian random projection of the hashed lower-case words of `title. abstract` (384 numbers,
L2-normalised). Same input, same vectors, on any machine.

**What these vectors are good for**: measuring search *latency*. The cost of a vector search does not
depend on the values: the in-process index ranks every paper by the Hamming distance of its 48-byte sign
code, then re-ranks a fixed number of candidates (`vectors.RERANK`) by exact cosine; pgvector's HNSW walk
is likewise bounded by `ef_search`. Queries are still embedded by the real model at search time, so the
embedding's cost is real too. **What they are not good for**: anything about search *quality*. Query
vectors (real model) and these paper vectors live in unrelated spaces, so semantic and hybrid rankings
over them are meaningless; semantic and hybrid nDCG must come from real embeddings
(`tools/embed_offline.py`, bench/results/search_quality.md). Do not import them into an instance that
serves readers: `paperboard index --rebuild --only semantic` (or importing real vectors) replaces them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperboard.search.offline_format import check_of, read_texts, save_vectors_file  # noqa: E402

DIM = 384
BUCKETS = 1 << 15
SEED = 20261126
WORD = re.compile(r"\w+")


def projection(seed: int = SEED) -> np.ndarray:
    """(BUCKETS, DIM) float32 Gaussian matrix, the same for the same seed."""
    return np.random.default_rng(seed).standard_normal((BUCKETS, DIM), dtype=np.float32)


def buckets(text: str) -> np.ndarray:
    """The text's lower-case words hashed (CRC-32, deterministic across processes) into BUCKETS."""
    words = WORD.findall(text.lower()) or ["<empty>"]
    return np.fromiter((zlib.crc32(w.encode()) % BUCKETS for w in words), dtype=np.int64, count=len(words))


def standin_vectors(texts: list[str], seed: int = SEED, chunk: int = 4096) -> np.ndarray:
    """(len(texts), DIM) float32 unit vectors (see the module docstring)."""
    proj = projection(seed)
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(texts), chunk):
        parts = [buckets(t) for t in texts[start : start + chunk]]
        lengths = np.array([len(p) for p in parts])
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        summed = np.add.reduceat(proj[np.concatenate(parts)], offsets, axis=0)
        norms = np.linalg.norm(summed, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out[start : start + len(parts)] = summed / norms
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("texts", type=Path, help="from `paperboard index --export-texts FILE [--all]`")
    ap.add_argument("out", type=Path, help="vectors file (.npz) for `paperboard index --import-vectors`")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--dtype", choices=("float32", "float16", "int8"), default="float16")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    header, ids, texts = read_texts(args.texts)
    vecs = standin_vectors(texts, args.seed)
    checks = [check_of(t) for t in texts]
    save_vectors_file(args.out, ids, checks, vecs, model=header["model"], max_tokens=header["max_tokens"],
                      dtype=args.dtype)
    print(json.dumps({"papers": len(ids), "seconds": round(time.perf_counter() - t0, 1), "out": str(args.out),
                      "note": "stand-in vectors: latency measurements only, not embeddings"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
