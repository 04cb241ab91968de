"""Search service latency in process: N queries through the search (rank, load, highlight) on a data dir
prepared with `paperboard import` + `paperboard index` (keyword index only; no embeddings, so hybrid ranks
like lexical). Prints p50 / p95 / mean per mode. A quick before/after check for refactors of search/:

    PAPERBOARD_DATA_DIR=var/bench .venv/bin/python bench/service_latency.py --queries 200
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")

import django  # noqa: E402

django.setup()

from paperboard.papers.models import Paper  # noqa: E402
from paperboard.search import query as querylang  # noqa: E402

try:
    from paperboard.search import service

    def run(query, mode):
        return service.search(query, limit=20, mode=mode).papers
except ImportError:  # the search before search/service.py existed
    from paperboard.search import views

    def run(query, mode):
        return views.results(query, offset=0, limit=20, mode=mode)[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the queries (best pass kept per query)")
    ap.add_argument("--dump", type=Path, help="write each query's result ids (and scores) here, to compare two trees")
    args = ap.parse_args()
    rng = random.Random(7)
    titles = list(Paper.objects.order_by("id").values_list("title", flat=True))
    texts = []
    for t in rng.sample(titles, args.queries):
        words = t.split()
        n = rng.randint(2, 5)
        start = rng.randint(0, max(0, len(words) - n))
        texts.append(" ".join(words[start : start + n]))
    queries = [querylang.parse(t) for t in texts]
    dump = []
    for mode in ("lexical", "hybrid"):
        for q in queries[:20]:
            run(q, mode)  # warm up
        best = [float("inf")] * len(queries)
        found = 0
        for r in range(args.rounds):
            for i, q in enumerate(queries):
                t = time.perf_counter()
                papers = run(q, mode)
                best[i] = min(best[i], time.perf_counter() - t)
                found += len(papers)
                if args.dump and r == 0:
                    dump.append(f"{mode}\t{texts[i]}\t" + " ".join(f"{p.pk}:{p.hit.score:.9g}" for p in papers))
        ms = sorted(b * 1000 for b in best)
        print(f"{mode:8} {len(queries)} queries: p50 {statistics.median(ms):.2f} ms  p95 {ms[int(0.95 * len(ms)) - 1]:.2f} ms  "
              f"mean {statistics.fmean(ms):.2f} ms  ({found // args.rounds} results)")
    if args.dump:
        args.dump.write_text("\n".join(dump) + "\n")


if __name__ == "__main__":
    main()
