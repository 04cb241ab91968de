"""Convert the seed papers (shared/data/seed_papers.jsonl) to the corpus JSONL format `paperboard import` reads.

The seed file names the id `arxiv_id`, may lack `published` or `primary_category`, and carries fields the
importer does not know (rank, source, notes). Output records have the corpus fields only:
    {"id", "title", "abstract", "authors", "categories", "primary_category", "published"}
A missing `published` becomes the first day of the id's month (YYMM.nnnnn -> 20YY-MM-01), as the corpus does
for its `month`-precision dates; a missing category gives an empty category list.

By default papers that are already in the corpus are left out (58 of the 92), so importing the corpus and
this file in either order gives the same database: the corpus record is the one that counts. `--all` keeps them.

Run:  .venv/bin/python bench/search_eval/seed_to_jsonl.py -o var/seed_papers.corpus.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check import corpus_records, read_jsonl  # noqa: E402

DATA = (HERE.parent.parent / ".." / "shared" / "data").resolve()
NEW_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")


def corpus_ids(corpus_dir: Path | str) -> set[str]:
    return {rec["id"] for rec in corpus_records(corpus_dir)}


def convert(rec: dict) -> dict:
    """One seed record in corpus format."""
    aid = rec["arxiv_id"]
    published = rec.get("published")
    if not published:
        m = NEW_ID.match(aid)
        published = f"20{m[1]}-{m[2]}-01" if m else None
    primary = rec.get("primary_category") or None
    out = {
        "id": aid,
        "title": rec["title"],
        "abstract": rec.get("abstract") or "",
        "authors": list(rec.get("authors") or []),
        "categories": [primary] if primary else [],
        "primary_category": primary,
        "published": published,
    }
    if not rec.get("published") and published:
        out["published_precision"] = "month"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", default=str(DATA / "seed_papers.jsonl"))
    ap.add_argument("--corpus-dir", default=str(DATA / "arxiv_corpus"))
    ap.add_argument("--all", action="store_true", help="also write seed papers that the corpus already has")
    ap.add_argument("-o", "--output", default="-", help="output file (.jsonl or .jsonl.gz); - for stdout")
    args = ap.parse_args(argv)
    skip = set() if args.all else corpus_ids(args.corpus_dir)
    records = [convert(rec) for rec in read_jsonl(args.seed) if rec["arxiv_id"] not in skip]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        opener = gzip.open if args.output.endswith(".gz") else open
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        with opener(args.output, "wt", encoding="utf-8") as out:
            out.write(text)
    print(f"{len(records)} seed papers written to {args.output}"
          + ("" if args.all else " (seed papers already in the corpus left out)"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
