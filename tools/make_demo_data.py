"""Rebuild the bundled demo data set from the shared corpus (a maintainer's tool; the app never reads ../shared).

    python tools/make_demo_data.py ../shared/data [--recent 3000]

Writes paperboard/demo/data/papers.jsonl.gz: the 92 seed papers plus the most recent papers with authors
of the corpus, in the corpus JSONL format. Deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "paperboard" / "demo" / "data" / "papers.jsonl.gz"
KEEP = ("id", "title", "abstract", "authors", "categories", "primary_category", "published", "updated", "comment")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("shared_data", type=Path)
    ap.add_argument("--recent", type=int, default=3000)
    args = ap.parse_args()
    seed = [json.loads(line) for line in open(args.shared_data / "seed_papers.jsonl", encoding="utf-8")]
    seed_ids = {s["arxiv_id"] for s in seed}
    corpus_by_id: dict[str, dict] = {}
    recent: list[dict] = []
    for part in sorted((args.shared_data / "arxiv_corpus").glob("part-*.jsonl.gz")):
        for line in gzip.open(part, "rt", encoding="utf-8"):
            rec = json.loads(line)
            if rec["id"] in seed_ids:
                corpus_by_id[rec["id"]] = rec
            if part.name == sorted((args.shared_data / "arxiv_corpus").glob("part-*.jsonl.gz"))[-1].name:
                if rec.get("authors"):
                    recent.append(rec)
    recent = [r for r in recent if r["id"] not in seed_ids][-args.recent :]
    rows = []
    for s in seed:
        known = corpus_by_id.get(s["arxiv_id"], {})
        cats = known.get("categories") or ([s["primary_category"]] if s.get("primary_category") else [])
        rows.append(
            {
                "id": s["arxiv_id"],
                "title": s["title"],
                "abstract": s["abstract"],
                "authors": s.get("authors") or known.get("authors") or [],
                "categories": cats,
                "primary_category": cats[0] if cats else None,
                "published": s.get("published") or known.get("published"),
                "seed_rank": s.get("rank"),
            }
        )
    rows += [{k: r[k] for k in KEEP if k in r} for r in recent]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as fh:
        for row in rows:
            fh.write((json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode())
    print(f"wrote {len(rows)} papers ({len(seed)} seed + {len(recent)} recent) to {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
