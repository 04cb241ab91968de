"""Benchmark: HTTP load on the daily feed, the daily-papers API and a paper page, with wrk.

1. Prepare a database with the whole corpus imported and the demo community on top (`paperboard import`,
   then `paperboard demo --no-serve`, so the latest feed days have submissions and votes). With
   `--data-dir DIR` (SQLite) or `--pg-db NAME` (PostgreSQL) an already loaded database is reused and kept.
2. Start `paperboard serve --workers 2 --port <free port>` on 127.0.0.1 and wait until it answers.
3. For each endpoint: a warm-up run, then `--repeat` measured wrk runs (default `wrk -t2 -c16 -d15s`),
   first with the app's response cache in play (*cached*: repeated URLs, what anonymous readers get),
   then with a cache-busting `_=<unique>` query parameter on every request (*uncached*: no request is
   answered from the 60 s response cache; each builds the page/answer).
   A wrk Lua script reports p50/p90/p95/p99 latency, requests/s, socket errors and non-2xx answers.
4. Stop the server (always), drop what it created, write bench/results/http_load.json and .md.

Run:  .venv/bin/python bench/http_load.py [--db sqlite|postgres] [--data-dir DIR] [--duration 15] ...
Targets (2 server workers): the daily page and /api/daily_papers each p95 <= 50 ms and >= 300 requests/s.
Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

HOST = "127.0.0.1"  # never anything else
TARGET_P95_MS = 50.0
TARGET_RPS = 300.0
TARGETED = ("daily_page", "daily_page_date", "api_daily", "api_daily_date")  # (a), (b), (c)

LUA_COMMON = r"""
-- paperboard bench: latency percentiles, requests/s, socket errors and non-2xx answers as one JSON line.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
  bust_nonce = args[1]
  base_path = wrk.path
  sep = string.find(base_path, "?", 1, true) and "&" or "?"
  counter = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + (t:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"non2xx":%d,' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"min":%d,"max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout, n,
    latency.mean, latency.stdev, latency.min, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99)))
end
"""

LUA_BUST = r"""
-- cache-busting: every request gets a query parameter no other request had (nonce-thread-counter)
function request()
  counter = counter + 1
  return wrk.format(nil, base_path .. sep .. "_=" .. bust_nonce .. "-" .. tid .. "-" .. counter)
end
"""


# --- data ---------------------------------------------------------------------------------------------


def loaded(db: str, data_dir: Path, pg_db: str | None) -> dict | None:
    """Counts of papers and demo submissions if this database is already prepared, else None."""
    q_papers = "SELECT count(*) FROM papers_paper"
    q_demo = "SELECT count(*) FROM papers_submission WHERE source = 'demo'"
    try:
        if db == "sqlite":
            path = data_dir / "paperboard.sqlite3"
            if not path.exists():
                return None
            papers, demo = c.sqlite_query(path, q_papers)[0][0], c.sqlite_query(path, q_demo)[0][0]
        else:
            if not pg_db or not c.pg_exists(pg_db):
                return None
            papers, demo = c.pg_query(pg_db, q_papers)[0][0], c.pg_query(pg_db, q_demo)[0][0]
    except Exception:  # noqa: BLE001 - no tables yet
        return None
    if papers >= c.CORPUS_PAPERS and demo > 0:
        return {"papers": papers, "demo_submissions": demo}
    return None


def prepare(db: str, data_dir: Path, url: str, pg_db: str | None, deadline: c.Deadline) -> dict:
    env = c.app_env(data_dir, url)
    found = loaded(db, data_dir, pg_db)
    if found:
        print(f"reusing the prepared database ({found['papers']:,} papers, {found['demo_submissions']} demo "
              "submissions); applying any new migrations", flush=True)
        c.run_checked(c.paperboard_cmd("migrate", "-v", "0"), env, timeout=600)
        return {"reused": True, **found}
    files = c.corpus_files()
    print("preparing: migrate, import the corpus, demo community ...", flush=True)
    c.run_checked(c.paperboard_cmd("migrate", "-v", "0"), env, timeout=300)
    t = time.perf_counter()
    out = c.run_checked(c.paperboard_cmd("import", "--no-progress", *map(str, files)), env,
                        timeout=max(60, deadline.left()))
    import_s = time.perf_counter() - t
    t = time.perf_counter()
    demo = c.run_checked(c.paperboard_cmd("demo", "--no-serve"), env, timeout=max(60, deadline.left()))
    demo_s = time.perf_counter() - t
    found = loaded(db, data_dir, pg_db) or {}
    return {
        "reused": False,
        "import_s": round(import_s, 1),
        "import_summary": [line for line in out.splitlines() if line.startswith("total:")],
        "demo_s": round(demo_s, 1),
        "demo_output": demo.strip().splitlines(),
        **found,
    }


def db_stats_state(db: str, data_dir: Path, pg_db: str | None) -> dict:
    """Whether the planner has statistics for the big tables (a bulk import leaves none until ANALYZE)."""
    if db == "sqlite":
        path = data_dir / "paperboard.sqlite3"
        has = c.sqlite_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")[0][0]
        analyzed = bool(has) and bool(c.sqlite_query(path, "SELECT count(*) FROM sqlite_stat1")[0][0])
        return {"analyzed": analyzed}
    rows = c.pg_query(pg_db, "SELECT relname, last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL "
                             "FROM pg_stat_user_tables WHERE relname IN ('papers_paper', 'papers_paperauthor', "
                             "'papers_papercategory', 'papers_submission')")
    return {"analyzed": all(ok for _, ok in rows) and len(rows) == 4,
            "tables": {name: ok for name, ok in rows},
            "autovacuum": c.pg_query(pg_db, "SHOW autovacuum")[0][0]}


def analyze(db: str, data_dir: Path, pg_db: str | None) -> float:
    """Run ANALYZE (what autovacuum or a post-import step would do); return the seconds it took."""
    t = time.perf_counter()
    if db == "sqlite":
        import sqlite3

        conn = sqlite3.connect(data_dir / "paperboard.sqlite3", timeout=60)
        try:
            conn.execute("ANALYZE")
            conn.commit()
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(c.pg_url(pg_db), autocommit=True) as conn:
            conn.execute("ANALYZE")
    return round(time.perf_counter() - t, 2)


# --- server -------------------------------------------------------------------------------------------


def get(url: str, timeout: float = 30) -> tuple[int, bytes, dict]:
    assert url.startswith(f"http://{HOST}:"), url
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


class Server:
    def __init__(self, env: dict, port: int, workers: int, log: Path):
        self.port, self.log = port, log
        self.logfile = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            c.paperboard_cmd("serve", "--host", HOST, "--port", str(port), "--workers", str(workers)),
            env=env, cwd=c.REPO, stdout=self.logfile, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the master and its workers
        )

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, timeout: float = 90) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                status, _, _ = get(self.base + "/api/daily_papers?limit=1", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:  # ppid
                pids.append(int(stat.parent.name))
        return pids

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the master and its live workers."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in [self.proc.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except OSError:
                pass
        return total

    def rss_mib(self) -> dict:
        out = {}
        for pid in [self.proc.pid, *self.worker_pids()]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[str(pid)] = round(int(line.split()[1]) / 1024, 1)
            except OSError:
                pass
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.logfile.close()


# --- wrk ----------------------------------------------------------------------------------------------


def wrk_version() -> str:
    p = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    return (p.stdout + p.stderr).splitlines()[0].strip()


def machine_cpu() -> tuple[int, int]:
    """(all jiffies, idle jiffies) from /proc/stat, for the machine's busy share during a run."""
    a = list(map(int, Path("/proc/stat").read_text().splitlines()[0].split()[1:]))
    return sum(a), a[3] + a[4]


def run_wrk(url: str, script: Path, args: argparse.Namespace, duration: int, bust: bool,
            server: Server | None = None) -> dict:
    assert url.startswith(f"http://{HOST}:"), url
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", f"--timeout={args.wrk_timeout}s",
           "-s", str(script), url]
    if bust:
        cmd += ["--", uuid.uuid4().hex[:8]]
    load_before = os.getloadavg()[0]
    cpu_before = server.cpu_seconds() if server else 0.0
    machine_before = machine_cpu()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    server_cpu = (server.cpu_seconds() - cpu_before) if server else None
    machine_after = machine_cpu()
    span = machine_after[0] - machine_before[0]
    busy = 100 * (1 - (machine_after[1] - machine_before[1]) / span) if span else None
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if p.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    r = json.loads(line.split(" ", 1)[1])
    secs = r["duration_us"] / 1e6
    lat = r["latency_us"]
    errors = sum(r["errors"].values())
    return {
        "requests": r["requests"],
        "rps": round(r["requests"] / secs, 1),
        "p50_ms": round(lat["p50"] / 1000, 2),
        "p90_ms": round(lat["p90"] / 1000, 2),
        "p95_ms": round(lat["p95"] / 1000, 2),
        "p99_ms": round(lat["p99"] / 1000, 2),
        "mean_ms": round(lat["mean"] / 1000, 2),
        "max_ms": round(lat["max"] / 1000, 2),
        "socket_errors": {k: v for k, v in r["errors"].items() if k != "status"},
        "socket_errors_total": errors - r["errors"]["status"],
        "non2xx": r["non2xx"],
        "bytes_per_response": round(r["bytes"] / r["requests"]) if r["requests"] else None,
        "server_cpu_ms_per_request": round(1000 * server_cpu / r["requests"], 3)
        if server_cpu is not None and r["requests"] else None,
        "machine_busy_pct": round(busy, 1) if busy is not None else None,
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
    }


def measure(name: str, url: str, mode: str, args, scripts: dict, deadline: c.Deadline, server: Server) -> dict:
    bust = mode == "uncached"
    deadline.check(f"{name} {mode}")
    run_wrk(url, scripts[mode], args, args.warmup, bust)  # warm-up: fills caches, warms connections
    runs = []
    for i in range(args.repeat):
        deadline.check(f"{name} {mode} run {i + 1}")
        r = run_wrk(url, scripts[mode], args, args.duration, bust, server)
        runs.append(r)
        print(f"  {name:<16} {mode:<8} run {i + 1}: {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f}  "
              f"p95 {r['p95_ms']:7.1f}  p99 {r['p99_ms']:7.1f} ms  errors {r['socket_errors_total']} "
              f"non2xx {r['non2xx']}  server CPU {r['server_cpu_ms_per_request']} ms/req  "
              f"machine busy {r['machine_busy_pct']}%", flush=True)
    keys = ("rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms", "server_cpu_ms_per_request")
    med = {k: c.median([r[k] for r in runs]) for k in keys}
    med = {k: round(v, 2) if v is not None else None for k, v in med.items()}
    out = {
        "url": url,
        "median": med,
        "errors_total": sum(r["socket_errors_total"] for r in runs),
        "non2xx_total": sum(r["non2xx"] for r in runs),
        "bytes_per_response": runs[-1]["bytes_per_response"],
        "runs": runs,
    }
    if name in TARGETED:
        out["targets"] = {
            "p95_le_50ms": med["p95_ms"] <= TARGET_P95_MS,
            "rps_ge_300": med["rps"] >= TARGET_RPS,
            "no_errors": out["errors_total"] == 0 and out["non2xx_total"] == 0,
        }
    return out


# --- report -------------------------------------------------------------------------------------------

LABELS = {
    "daily_page": "(a) daily page `/papers`",
    "daily_page_date": "(a) daily page `/papers/date/<day>`",
    "api_daily": "(b) `GET /api/daily_papers`",
    "api_daily_date": "(c) `GET /api/daily_papers?date=<day>`",
    "paper_page": "(d) paper page `/papers/<id>`",
}


def markdown(data: dict) -> str:
    lines = [
        *c.report_head("HTTP load benchmark", data),
        f"- load generator: {data['tool']['version']}, `{data['tool']['settings']}`, warm-up "
        f"{data['tool']['warmup_s']} s before each endpoint/mode, {data['tool']['repeat']} measured runs, medians "
        "reported; wrk runs on the same 2-CPU machine as the server and competes with it for CPU.",
        "- server: `paperboard serve --workers 2` (gunicorn gthread, 4 threads per worker), 127.0.0.1.",
        "- **cached**: the same URL again and again; after the first request per worker, answers come from the "
        "app's 60 s response cache (paperboard/papers/caching.py; 1 data-version query + a LocMemCache hit).",
        "- **uncached**: every request carries a unique `_=<nonce>-<thread>-<n>` query parameter, so no request "
        "is answered from the cache: each runs the feed/paper queries and renders. (Up to commit bad18b2 such "
        "answers were also stored in the per-process cache; since f6865c8 a URL with an unknown parameter is "
        "built but not stored.) `bust_check` in the JSON compares single-request latencies with and without the "
        "parameter, to show the busting works.",
        "",
    ]
    for db, d in data["databases"].items():
        p = d["prepared"]
        lines += [
            f"## {db}",
            "",
            f"Measured {d['measured_at']} at commit {d.get('git_commit') or '?'}; {p.get('papers', 0):,} papers, {p.get('demo_submissions', '?')} demo "
            f"submissions; latest feed day {d['latest_day']}, paper page `{d['paper_id']}`"
            + (f"; data prepared in {p['import_s']} s import + {p['demo_s']} s demo" if not p.get("reused") else
               "; reused a prepared database") + "."
            + f" Planner statistics before the load: {p.get('planner_statistics_before')}"
            + (f"; ANALYZE run first ({p['analyze_s']} s)." if "analyze_s" in p else "; no ANALYZE run."),
            "",
            "| endpoint | mode | req/s | p50 ms | p90 ms | p95 ms | p99 ms | errors / non-2xx | KiB/answer | "
            "server CPU ms/request | target (p95 <= 50 ms, >= 300 req/s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for mode in d["results"]:
            for name, r in d["results"][mode].items():
                m = r["median"]
                t = r.get("targets")
                verdict = "-" if t is None else ("met" if all(t.values()) else "**missed** (" + ", ".join(
                    k for k, ok in t.items() if not ok) + ")")
                if mode == "uncached" and t is not None:
                    verdict += " (informative)"
                lines.append(
                    f"| {LABELS[name]} | {mode} | {m['rps']:,.0f} | {m['p50_ms']} | {m['p90_ms']} | {m['p95_ms']} | "
                    f"{m['p99_ms']} | {r['errors_total']} / {r['non2xx_total']} | "
                    f"{(r['bytes_per_response'] or 0) / 1024:.1f} | {m.get('server_cpu_ms_per_request')} | {verdict} |"
                )
        if d.get("bust_check"):
            bc = d["bust_check"]
            lines += ["", "Cache-busting check (single requests, median ms, repeated URL / unique `_=` URL): "
                      + ", ".join(f"{n} {v['repeated_ms']} / {v['busted_ms']}"
                                  + ("" if v["busting_effective"] else " (**busting NOT effective**)")
                                  for n, v in bc.items()) + "."]
        lines += [""] + [f"Note: {n}" for n in d.get("notes", [])]
        lines += ["", f"Server RSS (MiB, master and workers): after cached runs {d['rss_after_cached']}, "
                      f"after uncached runs {d['rss_after_uncached']}.", ""]
        if d.get("history"):
            lines += ["Earlier results replaced by this one (median req/s / p95 ms):", "",
                      "| measured | commit | mode | " + " | ".join(LABELS) + " |",
                      "|---|---|---|" + "---|" * len(LABELS)]
            for h in d["history"]:
                for mode, res in h["medians"].items():
                    cells = [f"{res[n]['rps']:.0f} / {res[n]['p95_ms']}" if n in res else "-" for n in LABELS]
                    lines.append(f"| {h['measured_at']} | {h.get('git_commit') or '?'} | {mode} | " + " | ".join(cells) + " |")
            lines.append("")
        lines += ["Per run (req/s / p95 ms / machine busy % / 1-min load average before):", ""]
        for mode in d["results"]:
            for name, r in d["results"][mode].items():
                runs = ", ".join(f"{x['rps']:.0f} / {x['p95_ms']} / {x.get('machine_busy_pct')}% / "
                                 f"{x.get('loadavg_1m_before')}" for x in r["runs"])
                lines.append(f"- {name} {mode}: {runs}")
        lines.append("")
    if data.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in data["notes"]] + [""]
    return "\n".join(lines)


def check_busting(base: str, endpoints: dict, n: int = 15) -> dict:
    """Median single-request latency (ms), repeated URL vs unique `_=` URLs, per endpoint: if the cache-busted
    requests are not clearly slower, the `uncached` numbers do not measure cache misses."""
    import statistics

    out = {}
    for name, path in endpoints.items():
        sep = "&" if "?" in path else "?"
        times = {"repeated": [], "busted": []}
        for i in range(n):
            for kind, url in (("repeated", base + path), ("busted", f"{base}{path}{sep}_=check{i}{time.time_ns()}")):
                t = time.perf_counter()
                get(url)
                times[kind].append(1000 * (time.perf_counter() - t))
        rep, bust = statistics.median(times["repeated"]), statistics.median(times["busted"])
        out[name] = {"repeated_ms": round(rep, 2), "busted_ms": round(bust, 2), "busting_effective": bust > 2 * rep}
    return out


def history_of(previous: dict | None) -> list[dict]:
    """Medians of the results this run replaces, kept (up to 10) because single runs here are noisy."""
    if not previous or "results" not in previous:
        return []
    entry = {
        "measured_at": previous.get("measured_at"),
        "git_commit": previous.get("git_commit"),
        "medians": {mode: {name: r["median"] for name, r in res.items()} for mode, res in previous["results"].items()},
    }
    return [entry, *previous.get("history", [])][:10]


# --- main ---------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--data-dir", type=Path, help="SQLite: data dir to reuse if loaded (else load it); kept")
    ap.add_argument("--pg-db", help="PostgreSQL: database to reuse if loaded (else load it); kept")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    ap.add_argument("--duration", type=int, default=15, help="seconds per measured wrk run (default 15)")
    ap.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per endpoint and mode (default 5)")
    ap.add_argument("--repeat", type=int, default=3, help="measured runs per endpoint and mode (default 3)")
    ap.add_argument("--wrk-timeout", type=int, default=10, help="wrk per-request timeout in seconds (default 10)")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    ap.add_argument("--modes", default="cached,uncached", help="comma list of cached,uncached")
    ap.add_argument("--analyze", action="store_true",
                    help="run ANALYZE on the database before the load (results stored as '<db>+analyze')")
    ap.add_argument("--budget", type=int, default=3600, help="overall time budget in seconds (default 3600)")
    args = ap.parse_args()
    try:
        import django  # noqa: F401
        import paperboard  # noqa: F401
    except ImportError:
        sys.exit("run this with the project's virtualenv: .venv/bin/python bench/http_load.py (make install)")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed. Install it with:  sudo apt-get update && sudo apt-get install -y wrk\n"
                 "(Debian/Ubuntu package `wrk`; or build it from https://github.com/wg/wrk)")
    modes = [m for m in args.modes.split(",") if m in ("cached", "uncached")]
    deadline = c.Deadline(args.budget)

    work = Path(tempfile.mkdtemp(prefix="pb-bench-http-"))
    scripts = {"cached": work / "report.lua", "uncached": work / "report_bust.lua"}
    scripts["cached"].write_text(LUA_COMMON)
    scripts["uncached"].write_text(LUA_COMMON + LUA_BUST)
    data_dir = args.data_dir.resolve() if args.data_dir else work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    pg_db, drop_pg = None, False
    if args.db == "postgres":
        pg_db = args.pg_db or f"paperboard_bench_http_{os.getpid()}"
        drop_pg = not args.pg_db
        if not c.pg_exists(pg_db):
            c.pg_create(pg_db)
    url = c.pg_url(pg_db) if pg_db else ""
    server = None
    try:
        prepared = prepare(args.db, data_dir, url, pg_db, deadline)
        prepared["planner_statistics_before"] = db_stats_state(args.db, data_dir, pg_db)
        if args.analyze:
            prepared["analyze_s"] = analyze(args.db, data_dir, pg_db)
            prepared["planner_statistics_after_analyze"] = db_stats_state(args.db, data_dir, pg_db)
        env = c.app_env(data_dir, url)
        port = c.free_port()
        server = Server(env, port, args.workers, work / "server.log")
        server.wait_ready()
        status, body, _ = get(server.base + "/papers.json")
        assert status == 200, status
        feed = json.loads(body)
        day = feed["period"]["start"]
        status, body, _ = get(server.base + f"/api/daily_papers?date={day}&limit=1")
        paper_id = json.loads(body)[0]["paper"]["id"]
        endpoints = {
            "daily_page": "/papers",
            "daily_page_date": f"/papers/date/{day}",
            "api_daily": "/api/daily_papers",
            "api_daily_date": f"/api/daily_papers?date={day}",
            "paper_page": f"/papers/{paper_id}",
        }
        # Sanity: every endpoint answers 200, also with the cache-busting parameter.
        for name, path in endpoints.items():
            for probe in (path, path + ("&" if "?" in path else "?") + "_=probe"):
                st, b, _ = get(server.base + probe)
                if st != 200:
                    raise RuntimeError(f"{probe} answered {st}: {b[:300]!r}")
        bust_check = check_busting(server.base, endpoints)
        print(f"server on {server.base}; latest day {day}; paper {paper_id}; bust check {bust_check}", flush=True)
        results: dict = {}
        rss: dict = {}
        for mode in modes:
            results[mode] = {}
            for name, path in endpoints.items():
                results[mode][name] = measure(name, server.base + path, mode, args, scripts, deadline, server)
            rss[mode] = server.rss_mib()
        server_log_tail = server.log.read_text()[-2000:]
    finally:
        if server is not None:
            server.stop()
        if drop_pg:
            c.pg_drop(pg_db)
        c.rmtree_quiet(work)  # the temporary data dir too, unless --data-dir was given (kept)

    data = c.results_of_this_run(
        "http_load",
        tool={
            "name": "wrk",
            "version": wrk_version(),
            "settings": f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --timeout={args.wrk_timeout}s "
                        "-s <lua script>",
            "warmup_s": args.warmup,
            "repeat": args.repeat,
            "lua": "done() hook: latency:percentile(50/90/95/99) (microseconds), summary.requests/duration, "
                   "summary.errors; response() hook counts non-2xx; uncached adds request() with a unique `_=` "
                   "parameter",
        },
        server={"command": f"paperboard serve --host 127.0.0.1 --port <free> --workers {args.workers}",
                "worker_class": "gthread", "threads_per_worker": 4},
        targets_definition={"endpoints": list(TARGETED), "p95_ms_max": TARGET_P95_MS, "rps_min": TARGET_RPS,
                            "applies_to": "cached (what anonymous readers get); uncached shown against the same "
                                          "thresholds for information"},
    )
    key = args.db + ("+analyze" if args.analyze else "")
    data["databases"][key] = {
        "measured_at": c.machine_facts()["date"],
        "git_commit": data["machine"]["git_commit"],
        "history": history_of(data["databases"].get(key)),
        "prepared": prepared,
        "latest_day": day,
        "paper_id": paper_id,
        "endpoints": endpoints,
        "bust_check": bust_check,
        "results": results,
        "rss_after_cached": rss.get("cached"),
        "rss_after_uncached": rss.get("uncached"),
        "server_log_tail": server_log_tail,
    }
    c.write_results("http_load", data, markdown(data))
    for mode in modes:
        for name, r in results[mode].items():
            m = r["median"]
            print(f"{key} {mode:<8} {name:<16} {m['rps']:8.1f} req/s p95 {m['p95_ms']:7.1f} ms "
                  f"{r.get('targets', '')}")


if __name__ == "__main__":
    main()
