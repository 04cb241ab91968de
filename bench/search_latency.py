"""Search latency through the HTTP API, and the search page under load.

Prepare a data dir first (see bench/search_quality.py for the 275k one, bench/synth_corpus.py for 1M), then

    .venv/bin/python bench/search_latency.py --data-dir var/searcheval --label 275k
    .venv/bin/python bench/search_latency.py --data-dir var/scale1m --label 1m --no-load

1. **Latency, single client**: 500 distinct queries (the 102 of the evaluation set, long descriptions of
   20+ words, and 398 short ones of 2-5 words cut from the titles of random corpus papers), each sent once
   per method as `GET /api/papers/search?q=…&limit=20&mode=lexical|semantic|hybrid` to one gunicorn worker,
   one after another; p50/p95/mean per method and per query length. Every URL is new, so the response
   cache never answers. Each method has a fresh server (so no method finds the query embeddings of another
   in the process's query cache; `--shared-server` measures all in one, as before), whose embedding model is
   loaded by warm-up queries first (the one-time cost is reported apart).
2. **Vector index recall**: the in-process index's sign-code search (then exact re-rank) against exact
   search, for the same queries' vectors: recall@10 and recall@100.
3. **Search page under load** (unless --no-load): wrk, 2 threads, 16 connections, 2 gunicorn workers,
   `/papers/search?q=…` rotating over the 500 queries with a cache-busting parameter (every request is
   built), median of --repeat runs.

Writes bench/results/search_latency_<label>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import _common as c  # noqa: E402
from http_load import LUA_COMMON, Server, get, wrk_version  # noqa: E402

METHODS = ("lexical", "semantic", "hybrid")
STOP = {"a", "an", "the", "of", "for", "and", "or", "in", "on", "with", "to", "via", "by", "from", "is", "are", "at", "as"}
TARGETS = {"275k": 50.0, "1m": 150.0}

LUA_ROTATE = r"""
queries = {}
for line in io.lines(os.getenv("PB_QUERIES")) do table.insert(queries, line) end
function request()
  counter = counter + 1
  local q = queries[(counter * 7 + tid * 13) % #queries + 1]
  return wrk.format(nil, base_path .. sep .. "q=" .. q .. "&_=" .. bust_nonce .. "-" .. tid .. "-" .. counter)
end
"""


def build_queries(data_dir: Path, n: int = 500, seed: int = 7) -> list[dict]:
    evalset = [json.loads(line) for line in (BENCH / "search_eval" / "queries.jsonl").read_text().splitlines() if line.strip()]
    out = [{"q": e["query"], "kind": "long"} for e in evalset]
    titles = [t for (t,) in c.sqlite_query(data_dir / "paperboard.sqlite3",
                                           "SELECT title FROM papers_paper ORDER BY id LIMIT 275115")]
    rng = random.Random(seed)
    seen = {o["q"] for o in out}
    while len(out) < n:
        words = [w.strip(".,:;()?!\"'").lower() for w in rng.choice(titles).split()]
        words = [w for w in words if w and w not in STOP and any(ch.isalpha() for ch in w)]
        if len(words) < 2:
            continue
        size = rng.randint(2, min(5, len(words)))
        start = rng.randint(0, len(words) - size)
        q = " ".join(words[start : start + size])
        if q not in seen:
            seen.add(q)
            out.append({"q": q, "kind": "short"})
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(pct(ms, 95), 2),
            "mean_ms": round(statistics.fmean(ms), 2), "max_ms": round(max(ms), 2)}


def warm_up(base: str) -> float:
    """Load the embedding model (its time is returned) and run a few unrelated queries."""
    t = time.perf_counter()
    get(f"{base}/api/papers/search?q=warm+up+the+model&mode=semantic")
    first = (time.perf_counter() - t) * 1000
    for i in range(10):
        get(f"{base}/api/papers/search?q=warm+up+{i}&mode=hybrid")
    return first


def latency(base: str, queries: list[dict], limit: int, methods=METHODS) -> dict:
    results = {}
    for method in methods:
        per = {"all": [], "long": [], "short": []}
        empty = 0
        load_before = os.getloadavg()[0]
        for item in queries:
            url = f"{base}/api/papers/search?" + urllib.parse.urlencode({"q": item["q"], "limit": limit, "mode": method})
            t = time.perf_counter()
            status, body, _ = get(url)
            ms = (time.perf_counter() - t) * 1000
            if status != 200:
                raise RuntimeError(f"{url}: HTTP {status}: {body[:300]!r}")
            empty += not json.loads(body)
            per["all"].append(ms)
            per[item["kind"]].append(ms)
        results[method] = {k: summary(v) for k, v in per.items() if v} | {
            "empty_answers": empty, "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
        r = results[method]["all"]
        print(f"  {method:<9} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  mean {r['mean_ms']:7.1f} ms  "
              f"(long p95 {results[method]['long']['p95_ms']:.1f}, short p95 {results[method]['short']['p95_ms']:.1f})",
              flush=True)
    return results


def vector_recall(data_dir: Path, queries: list[dict]) -> dict:
    """Sign codes + re-rank against exact search, in this process (same files the server maps)."""
    os.environ["PAPERBOARD_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
    sys.path.insert(0, str(c.REPO))
    import django

    django.setup()
    import numpy as np

    from paperboard.search import semantic
    from paperboard.search.semantic import inprocess

    index = inprocess.in_process_index()
    index.sync()
    base = index._base
    if base is None or base.codes is None:
        return {"approximate": False, "count": len(index)}
    matrix = np.asarray(base.matrix)
    r10, r100, t_approx, t_exact = [], [], [], []
    for item in queries:
        q = semantic.query_vector(item["q"])
        t = time.perf_counter()
        exact = base.ids[np.argsort(-(matrix @ q))[:100]]
        t_exact.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        got = [pid for pid, _ in index.nearest(q, 100)]
        t_approx.append((time.perf_counter() - t) * 1000)
        r10.append(len(set(got[:10]) & set(exact[:10].tolist())) / 10)
        r100.append(len(set(got) & set(exact.tolist())) / 100)
    return {"approximate": True, "count": int(len(base.ids)), "rerank": inprocess.RERANK,
            "recall_at_10": round(float(np.mean(r10)), 4), "recall_at_100": round(float(np.mean(r100)), 4),
            "approx_ms_p50": round(statistics.median(t_approx), 2), "exact_ms_p50": round(statistics.median(t_exact), 2),
            "note": "exact = full float32 matrix product and sort (matrix already in memory)"}


def load_test(env: dict, queries: list[dict], args, work: Path) -> dict:
    qfile = work / "queries.txt"
    qfile.write_text("\n".join(urllib.parse.quote_plus(q["q"]) for q in queries) + "\n")
    script = work / "rotate.lua"
    script.write_text(LUA_COMMON + LUA_ROTATE)
    port = c.free_port()
    server = Server(env, port, 2, work / "server-load.log")
    try:
        server.wait_ready()
        for q in queries[:4]:  # both workers load the model before the clock starts
            get(f"{server.base}/papers/search?" + urllib.parse.urlencode({"q": q["q"]}))
            get(f"{server.base}/papers/search?" + urllib.parse.urlencode({"q": q["q"] + " x"}))
        runs = []
        for i in range(args.repeat + 1):
            cmd_env = dict(os.environ, PB_QUERIES=str(qfile))
            p = subprocess.run(["wrk", "-t2", "-c16", f"-d{args.duration}s", "--timeout=30s", "-s", str(script),
                                f"{server.base}/papers/search", "--", uuid.uuid4().hex[:8]],
                               capture_output=True, text=True, env=cmd_env, timeout=args.duration + 60)
            line = next((ln for ln in p.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
            if p.returncode or not line:
                raise RuntimeError(f"wrk failed: {p.stdout[-1500:]} {p.stderr[-1500:]}")
            r = json.loads(line.split(" ", 1)[1])
            secs = r["duration_us"] / 1e6
            run = {"rps": round(r["requests"] / secs, 1), "p50_ms": round(r["latency_us"]["p50"] / 1000, 1),
                   "p95_ms": round(r["latency_us"]["p95"] / 1000, 1), "requests": r["requests"],
                   "non2xx": r["non2xx"], "errors": sum(v for k, v in r["errors"].items() if k != "status")}
            if i:  # the first run is a warm-up
                runs.append(run)
                print(f"  load run {i}: {run['rps']} req/s  p50 {run['p50_ms']} ms  p95 {run['p95_ms']} ms  "
                      f"non2xx {run['non2xx']} errors {run['errors']}", flush=True)
        return {"workers": 2, "wrk": "-t2 -c16", "duration_s": args.duration, "runs": runs,
                "median": {k: statistics.median([r[k] for r in runs]) for k in ("rps", "p50_ms", "p95_ms")}}
    finally:
        server.stop()


def markdown(data: dict) -> str:
    label, target = data["label"], TARGETS.get(data["label"])
    lines = [f"# Search latency: {data['papers']:,} papers ({label})", "",
             f"`{data['command']}` on {data['date']} (git {data['git']}).", "",
             f"Settings: {data['settings'] or 'defaults'}.", "",
             c.machine_md(data["machine"]), "",
             f"## Single client, {data['queries']} queries through `GET /api/papers/search?limit=20&mode=…` (1 worker)", "",
             ("One server for all methods (`--shared-server`): hybrid, measured after semantic, reuses the query "
              "embeddings that pass computed, so its times leave out embedding the query."
              if data.get("servers") == "shared" else
              "A fresh server (1 worker) per method, warmed up by the same 11 unrelated queries: every method "
              "embeds each query itself (the query cache never helps)."), "",
             "| method | p50 | p95 | mean | long queries p95 | short queries p95 | empty answers |",
             "|---|---|---|---|---|---|---|"]
    for m in METHODS:
        r = data["latency"][m]
        lines.append(f"| {m} | {r['all']['p50_ms']} ms | {r['all']['p95_ms']} ms | {r['all']['mean_ms']} ms | "
                     f"{r['long']['p95_ms']} ms | {r['short']['p95_ms']} ms | {r['empty_answers']} |")
    loads = [f"{m} {data['latency'][m]['load_1min'][0]}→{data['latency'][m]['load_1min'][1]}"
             for m in METHODS if "load_1min" in data["latency"][m]]
    if loads:
        lines += ["", "Load average (1 min) before → after each method: " + ", ".join(loads) + "."]
    if target:
        ok = data["latency"]["hybrid"]["all"]["p95_ms"] <= target
        lines += ["", f"Target: hybrid p95 ≤ {target:.0f} ms: **{'met' if ok else 'not met'}**."]
    lines += ["", f"Model load (one-time, first query of the worker): {data['first_query_ms']:.0f} ms.", ""]
    v = data["vector_index"]
    if data.get("standin_vectors"):
        lines[lines.index(f"Settings: {data['settings'] or 'defaults'}.") + 1 : 1] = [
            "", "Paper vectors: **stand-ins** (`bench/standin_vectors.py`, a seeded random projection of hashed "
            "words), not embeddings. Latencies are those of real searches (queries are embedded by the real "
            "model; the vector search costs the same whatever the values); the vector index's recall below is "
            "not that of real embeddings, and no quality number comes from this data."]
    if v.get("approximate"):
        lines += ["## Vector index", "",
                  f"{v['count']:,} vectors, sign codes then exact re-rank of {v['rerank']:,} candidates: "
                  f"recall@10 **{v['recall_at_10']}**, recall@100 **{v['recall_at_100']}** against exact search; "
                  f"{v['approx_ms_p50']} ms vs {v['exact_ms_p50']} ms exact (median, in-process).", ""]
    if data.get("load"):
        m = data["load"]["median"]
        lines += ["## Search page under load", "",
                  f"wrk {data['load']['wrk']}, {data['load']['duration_s']} s per run, 2 gunicorn workers, "
                  f"`/papers/search?q=…` over the same queries, every request built (cache-busting parameter): "
                  f"median of {len(data['load']['runs'])} runs **{m['rps']} req/s, p50 {m['p50_ms']} ms, "
                  f"p95 {m['p95_ms']} ms**.", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--label", required=True, help="names the result files (275k, 1m, ...)")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--no-load", action="store_true", help="skip the load test")
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--standin-vectors", action="store_true",
                    help="the data dir's paper vectors are bench/standin_vectors.py stand-ins: say so in the results "
                         "(latencies stand; the vector index's recall is not that of real embeddings)")
    ap.add_argument("--shared-server", action="store_true",
                    help="measure every method in one server (as before 2026-11-26: hybrid then reuses the query "
                         "embeddings that the semantic pass computed); default: a fresh server per method")
    ap.add_argument("--env", action="append", default=[], metavar="PAPERBOARD_NAME=VALUE",
                    help="a setting for the server (e.g. PAPERBOARD_SEARCH_RELAXED_POSTINGS=10000)")
    args = ap.parse_args()
    data_dir = args.data_dir.resolve()
    work = c.REPO / "var" / "bench-search-latency"
    work.mkdir(parents=True, exist_ok=True)
    queries = build_queries(data_dir, args.queries)
    env = c.app_env(data_dir)
    env.update(dict(item.split("=", 1) for item in args.env))
    papers = c.sqlite_query(data_dir / "paperboard.sqlite3", "SELECT count(*) FROM papers_paper")[0][0]
    print(f"{papers:,} papers in {data_dir}; {len(queries)} queries", flush=True)
    lat, firsts = {}, []
    # Each method gets a fresh server unless --shared-server: in one server, hybrid (measured after
    # semantic) found every query's embedding in the process's query cache and never embedded a query.
    for methods in [METHODS] if args.shared_server else [(m,) for m in METHODS]:
        server = Server(env, c.free_port(), 1, work / "server.log")
        try:
            server.wait_ready()
            firsts.append(warm_up(server.base))
            lat.update(latency(server.base, queries, args.limit, methods))
        finally:
            server.stop()
    first = statistics.median(firsts)
    vec = vector_recall(data_dir, queries)
    print(f"  vector index: {vec}", flush=True)
    load = None if args.no_load else load_test(env, queries, args, work)
    data = {"benchmark": "search_latency", "label": args.label, "papers": papers, "queries": len(queries),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "git": c.machine_facts().get("git_commit", ""),
            "machine": c.machine_facts(), "command": "python bench/search_latency.py " + " ".join(sys.argv[1:]),
            "settings": dict(item.split("=", 1) for item in args.env), "first_query_ms": first, "latency": lat,
            "servers": "shared" if args.shared_server else "per method", "standin_vectors": args.standin_vectors,
            "vector_index": vec, "load": load,
            "wrk": wrk_version()}
    c.write_results(f"search_latency_{args.label}", data, markdown(data))


if __name__ == "__main__":
    main()
