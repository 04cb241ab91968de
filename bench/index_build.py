"""Index build on a prepared data dir (the whole corpus: see bench/search_quality.py): time and memory.

    .venv/bin/python bench/index_build.py --data-dir var/searcheval

1. lexical: `paperboard index --only lexical --rebuild` (FTS5 / PostgreSQL full text), wall time and
   the child's peak RSS;
2. vector index: the in-process index files (matrix, ids, sign codes) rebuilt from the embeddings
   table in a fresh process, wall time and peak RSS;
3. embeddings on this CPU: SAMPLE random papers embedded as the indexer does (batch 64), papers/s, and
   the cosine between these CPU vectors and the stored ones (which came from a GPU, see
   bench/results/embed_gpu.jsonl);
4. embeddings on a GPU: the per-shard rates recorded in bench/results/embed_gpu.jsonl (median).

Writes bench/results/index_build.json and .md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import _common as c  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
import django; django.setup()
from paperboard.search.semantic import inprocess, store
t = time.perf_counter()
index = inprocess.in_process_index()
index.sync()
print(json.dumps({"seconds": time.perf_counter() - t, "count": len(index),
                  "codes": index._base.codes is not None,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CPU_EMBED = r"""
import json, os, resource, sys, time
import numpy as np
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
import django; django.setup()
from django.db import connection
from paperboard.search.semantic import embed, store
n = int(sys.argv[1])
with connection.cursor() as cur:
    cur.execute("SELECT id, title, abstract FROM papers_paper ORDER BY random() LIMIT %s", [n])
    rows = cur.fetchall()
texts = [embed.paper_text(t, a) for _, t, a in rows]
t = time.perf_counter(); embed.get_model(); load = time.perf_counter() - t
embed.encode(texts[:8])
t = time.perf_counter(); vecs = embed.encode(texts, batch_size=64); secs = time.perf_counter() - t
stored = store.load([r[0] for r in rows])
cos = [float(v @ stored[r[0]]) for r, v in zip(rows, vecs) if r[0] in stored]
print(json.dumps({"papers": n, "seconds": secs, "papers_per_s": n / secs, "model_load_s": load,
                  "cos_mean": float(np.mean(cos)), "cos_min": float(np.min(cos)), "cos_p1": float(np.percentile(cos, 1)),
                  "compared": len(cos), "threads": __import__("torch").get_num_threads(),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(args: list[str], env: dict, timeout: float) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(args, env=env, cwd=c.REPO, capture_output=True, text=True, timeout=timeout)
    if p.returncode:
        raise RuntimeError(f"{args} failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return time.perf_counter() - t, p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--sample", type=int, default=256)
    args = ap.parse_args()
    data_dir = args.data_dir.resolve()
    env = c.app_env(data_dir)
    py = str(c.REPO / ".venv" / "bin" / "python")
    papers = c.sqlite_query(data_dir / "paperboard.sqlite3", "SELECT count(*) FROM papers_paper")[0][0]
    print(f"{papers:,} papers in {data_dir}", flush=True)

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    secs, out = run_child(c.paperboard_cmd("index", "--only", "lexical", "--rebuild", "--no-progress"), env, 3600)
    lexical = {"seconds": round(secs, 1), "papers_per_s": round(papers / secs),
               "peak_rss_mib": round(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024),
               "output": out.strip().splitlines()[-1]}
    print(f"  lexical: {lexical}", flush=True)

    vec_dir = data_dir / "vectors"
    if vec_dir.exists():
        shutil.rmtree(vec_dir)
    _, out = run_child([py, "-c", CHILD], env, 3600)
    vector_index = json.loads(out.strip().splitlines()[-1])
    files = sum(f.stat().st_size for f in vec_dir.rglob("*") if f.is_file())
    vector_index |= {"files_mib": round(files / 2**20), "seconds": round(vector_index["seconds"], 1),
                     "peak_rss_mib": round(vector_index["peak_rss_mib"])}
    print(f"  vector index: {vector_index}", flush=True)

    _, out = run_child([py, "-c", CPU_EMBED, str(args.sample)], env, 3600)
    cpu = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in json.loads(out.strip().splitlines()[-1]).items()}
    print(f"  CPU embedding: {cpu}", flush=True)

    gpu_rows = [json.loads(line) for line in (c.RESULTS / "embed_gpu.jsonl").read_text().splitlines() if line.strip()]
    main_rows = [r for r in gpu_rows if r["batch_size"] == 512 and "note" not in r]
    corpus_rows = [r for r in gpu_rows if "sweep" not in r.get("note", "")]
    gpu = {"device": gpu_rows[0]["device_name"], "torch": gpu_rows[0]["torch"], "papers": sum(r["papers"] for r in corpus_rows),
           "median_papers_per_s": round(statistics.median(r["papers_per_s"] for r in main_rows)),
           "encode_seconds_total": round(sum(r["encode_s"] for r in gpu_rows if "sweep" not in r.get("note", "")), 1),
           "by_batch": {r["batch_size"]: r["papers_per_s"] for r in gpu_rows if "sweep" in r.get("note", "")}}
    data = {"benchmark": "index_build", "papers": papers, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": c.machine_facts(), "command": "python bench/index_build.py " + " ".join(sys.argv[1:]),
            "lexical": lexical, "vector_index": vector_index, "cpu_embedding": cpu, "gpu_embedding": gpu}
    md = "\n".join([
        f"# Index build: {papers:,} papers", "", f"`{data['command']}` on {data['date']}.", "", c.machine_md(data["machine"]), "",
        "| step | time | rate | peak RSS |", "|---|---|---|---|",
        f"| lexical index (`paperboard index --only lexical --rebuild`) | {lexical['seconds']} s | {lexical['papers_per_s']:,} papers/s | {lexical['peak_rss_mib']} MiB |",
        f"| vector index files from the table (matrix, ids, sign codes; {vector_index['files_mib']} MiB on disk) | {vector_index['seconds']} s | | {vector_index['peak_rss_mib']} MiB |",
        f"| embeddings, this CPU ({cpu['threads']} threads, batch 64, {cpu['papers']} random papers) | {cpu['seconds']:.1f} s | {cpu['papers_per_s']:.1f} papers/s | {cpu['peak_rss_mib']:.0f} MiB |",
        f"| embeddings, {gpu['device']} (float16, batch 512, {gpu['papers']:,} papers; embed_gpu.jsonl) | {gpu['encode_seconds_total']} s | {gpu['median_papers_per_s']:,} papers/s (median of shards) | |",
        "", f"CPU vectors against the stored GPU ones (int8 transport): cosine mean {cpu['cos_mean']:.5f}, "
        f"1st percentile {cpu['cos_p1']:.5f}, min {cpu['cos_min']:.5f} over {cpu['compared']} papers. "
        f"Model load {cpu['model_load_s']:.1f} s. GPU batch sizes: {gpu['by_batch']} papers/s.", ""])
    c.write_results("index_build", data, md)


if __name__ == "__main__":
    main()
