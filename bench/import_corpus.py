"""Benchmark: `paperboard import` of the whole arXiv corpus (9 parts, 275,081 papers), then a re-import.

For each run, in a fresh temporary data dir (SQLite) or a fresh PostgreSQL database:
  1. `paperboard migrate` (not timed),
  2. `paperboard import --no-progress part-*.jsonl.gz` as a subprocess: wall time, papers/s, peak RSS
     (ru_maxrss from wait4 on that very process) and its user/system CPU time,
  3. the same import again on the now-loaded database (every record unchanged), measured the same way.

Run:  .venv/bin/python bench/import_corpus.py [--db sqlite|postgres|both] [--repeat N] [--pg-repeat N]
Writes bench/results/import_corpus.json and .md (a run for one database keeps the other's last result).
Targets: SQLite >= 5,000 papers/s end to end (process start to exit), peak RSS <= 1 GiB,
re-import at least as fast as the first import.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

TARGET_RATE = 5_000  # papers/s, SQLite, end to end
TARGET_RSS_KIB = 1024 * 1024  # 1 GiB
IMPORT_TIMEOUT = 1800  # seconds; one import of the whole corpus must finish within this
TOTAL_RE = re.compile(r"^total: (.*) in ([\d.]+)s \(([\d,]+) records/s\)", re.M)


def timed_import(files: list[Path], env: dict, log: Path) -> dict:
    """Run one `paperboard import` to completion; measure wall time and the process's own rusage."""
    cmd = c.paperboard_cmd("import", "--no-progress", *map(str, files))
    load = os.getloadavg()[0]
    with open(log, "w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=c.REPO, stdout=out, stderr=subprocess.STDOUT)
        # wait4 returns the rusage of exactly this child; poll so the wait is bounded in time.
        deadline = started + IMPORT_TIMEOUT
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                sys.exit(f"import did not finish in {IMPORT_TIMEOUT}s; last output:\n{log.read_text()[-3000:]}")
            time.sleep(0.02)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped by wait4 above; tell Popen so it does not wait again
    text = log.read_text()
    m = TOTAL_RE.search(text)
    return {
        "exit_code": code,
        "error": None if code == 0 else (text.strip().splitlines() or ["?"])[-1][-500:],
        "done_files": [ln.split(":", 1)[0] for ln in text.splitlines() if re.match(r"^part-\S+: \d+ new", ln)],
        "wall_s": round(wall, 2),
        "maxrss_kib": ru.ru_maxrss,
        "user_s": round(ru.ru_utime, 2),
        "sys_s": round(ru.ru_stime, 2),
        "cpu_utilisation": round((ru.ru_utime + ru.ru_stime) / wall, 2),
        "loadavg_1m_before": round(load, 2),
        "reported_summary": m.group(1) if m else None,
        "reported_elapsed_s": float(m.group(2)) if m else None,
        "reported_records_per_s": int(m.group(3).replace(",", "")) if m else None,
    }


def counts(db: str, where: str) -> dict:
    sql = {
        "papers": "SELECT count(*) FROM papers_paper",
        "authors": "SELECT count(*) FROM papers_paperauthor",
        "categories": "SELECT count(*) FROM papers_papercategory",
    }
    if db == "sqlite":
        path = Path(where) / "paperboard.sqlite3"
        out = {k: c.sqlite_query(path, q)[0][0] for k, q in sql.items()}
        out["db_bytes"] = c.dir_size(Path(where))
    else:
        out = {k: c.pg_query(where, q)[0][0] for k, q in sql.items()}
        out["db_bytes"] = c.pg_query(where, "SELECT pg_database_size(current_database())")[0][0]
    return out


def one_run(db: str, files: list[Path], index: int) -> dict:
    """One fresh database: migrate, import, re-import. A failed import is recorded, not retried."""
    tmp = Path(tempfile.mkdtemp(prefix=f"pb-bench-import-{db}-"))
    logs = Path(tempfile.mkdtemp(prefix="pb-bench-import-logs-"))
    dbname = f"paperboard_bench_import_{os.getpid()}_{index}"
    where = str(tmp) if db == "sqlite" else dbname
    try:
        url = c.pg_create(dbname) if db == "postgres" else ""
        env = c.app_env(tmp, url)
        c.run_checked(c.paperboard_cmd("migrate", "-v", "0"), env, timeout=300)
        print(f"[{db} run {index}] importing {len(files)} files ...", flush=True)
        first = timed_import(files, env, logs / "first.log")
        after_first = counts(db, where)
        if first["exit_code"] != 0:
            print(f"[{db} run {index}] import FAILED after {first['wall_s']}s with {after_first['papers']:,} papers "
                  f"stored: {first['error']}", flush=True)
            return {"failed": True, "first": first, "after_first": after_first}
        print(f"[{db} run {index}] first: {first['wall_s']}s, RSS {first['maxrss_kib'] // 1024} MiB; re-importing ...",
              flush=True)
        again = timed_import(files, env, logs / "reimport.log")
        if again["exit_code"] != 0:
            sys.exit(f"re-import failed: {again['error']}")
        for r in (first, again):
            r["papers_per_s"] = round(after_first["papers"] / r["wall_s"], 1)
        print(f"[{db} run {index}] re-import: {again['wall_s']}s, RSS {again['maxrss_kib'] // 1024} MiB", flush=True)
        return {"first": first, "reimport": again, "after_first": after_first}
    finally:
        if db == "postgres":
            c.pg_drop(dbname)
        c.rmtree_quiet(tmp)
        c.rmtree_quiet(logs)


AUTHOR_MAX = 300  # PaperAuthor.name max_length (varchar(300): enforced by PostgreSQL, not by SQLite)


def sanitised_corpus(files: list[Path], out: Path) -> tuple[list[Path], list[str]]:
    """Copy the corpus into `out`, cutting author names longer than AUTHOR_MAX; unchanged parts are linked.

    Only used on PostgreSQL when the real corpus fails to import, so there is still a speed number."""
    import gzip
    import json

    new_files, fixed = [], []
    for f in files:
        lines, changed = [], False
        with gzip.open(f, "rb") as fh:
            for raw in fh:
                if len(raw) > AUTHOR_MAX and b'"authors"' in raw:
                    obj = json.loads(raw)
                    names = obj.get("authors") or []
                    if any(isinstance(a, str) and len(" ".join(a.split())) > AUTHOR_MAX for a in names):
                        obj["authors"] = [a[:AUTHOR_MAX] if isinstance(a, str) else a for a in names]
                        fixed.append(f"{f.name}: {obj.get('id')}")
                        raw, changed = (json.dumps(obj, ensure_ascii=False) + "\n").encode(), True
                lines.append(raw)
        target = out / f.name
        if changed:
            with gzip.open(target, "wb", compresslevel=6) as fh:
                fh.writelines(lines)
        else:
            target.symlink_to(f)
        new_files.append(target)
    return new_files, fixed


def summarise(runs: list[dict]) -> dict:
    out = {}
    for phase in ("first", "reimport"):
        rows = [r[phase] for r in runs]
        out[phase] = {
            "median_wall_s": round(c.median([r["wall_s"] for r in rows]), 2),
            "median_papers_per_s": round(c.median([r["papers_per_s"] for r in rows]), 1),
            "median_maxrss_mib": round(c.median([r["maxrss_kib"] for r in rows]) / 1024, 1),
            "max_maxrss_mib": round(max(r["maxrss_kib"] for r in rows) / 1024, 1),
            "median_user_s": round(c.median([r["user_s"] for r in rows]), 2),
            "median_sys_s": round(c.median([r["sys_s"] for r in rows]), 2),
            "median_reported_records_per_s": c.median([r["reported_records_per_s"] for r in rows]),
        }
    return out


def targets(db: str, s: dict) -> dict:
    t = {
        "peak_rss_le_1GiB": max(s["first"]["max_maxrss_mib"], s["reimport"]["max_maxrss_mib"]) <= 1024,
        "reimport_at_least_as_fast": s["reimport"]["median_wall_s"] <= s["first"]["median_wall_s"],
    }
    if db == "sqlite":
        t["rate_ge_5000_papers_per_s"] = s["first"]["median_papers_per_s"] >= TARGET_RATE
    return t


def markdown(data: dict) -> str:
    lines = [
        *c.report_head("Import benchmark: the whole arXiv corpus", data),
        f"- corpus: {data['corpus']['files']} files, {data['corpus']['bytes'] / 2**20:.1f} MiB gzipped, "
        f"{data['corpus']['papers']:,} papers; PostgreSQL {data.get('postgres_server', '?')}",
        "",
        "Each run: fresh database, `paperboard migrate`, then `paperboard import --no-progress <9 parts>` timed as "
        "a subprocess from start to exit (papers/s = papers in the database / wall time, so interpreter and "
        "Django start-up are included). *Re-import* repeats the same import on the loaded database (every "
        "record unchanged). Peak RSS is ru_maxrss of the import process. Values are medians over the runs.",
        "",
        "| database | phase | runs | wall s | papers/s | peak RSS MiB (median / max) | user s | sys s | "
        "app-reported records/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for db, d in data["databases"].items():
        for phase, label in (("first", "import"), ("reimport", "re-import (unchanged)")):
            s = d["summary"][phase]
            dbl = db if d.get("corpus", "real") == "real" else f"{db} (sanitised corpus, see notes)"
            lines.append(
                f"| {dbl} | {label} | {len(d['runs'])} | {s['median_wall_s']} | {s['median_papers_per_s']:,.0f} | "
                f"{s['median_maxrss_mib']:.0f} / {s['max_maxrss_mib']:.0f} | {s['median_user_s']} | "
                f"{s['median_sys_s']} | {s['median_reported_records_per_s'] or 0:,.0f} |"
            )
    lines += ["", "## Targets", "", "| database | target | met |", "|---|---|---|"]
    names = {
        "rate_ge_5000_papers_per_s": "import >= 5,000 papers/s end to end",
        "peak_rss_le_1GiB": "peak RSS <= 1 GiB",
        "reimport_at_least_as_fast": "re-import at least as fast as import",
    }
    for db, d in data["databases"].items():
        for k, ok in d["targets"].items():
            lines.append(f"| {db} | {names.get(k, k)} | {'yes' if ok else '**no**'} |")
    lines += ["", "## Runs", "", "| database | run | phase | wall s | papers/s | RSS MiB | user s | sys s | "
              "load avg before |", "|---|---|---|---|---|---|---|---|---|"]
    for db, d in data["databases"].items():
        for i, r in enumerate(d["runs"], 1):
            for phase in ("first", "reimport"):
                x = r[phase]
                lines.append(
                    f"| {db} | {i} | {phase} | {x['wall_s']} | {x['papers_per_s']:,.0f} | "
                    f"{x['maxrss_kib'] / 1024:.0f} | {x['user_s']} | {x['sys_s']} | {x['loadavg_1m_before']} |"
                )
    lines.append("")
    for db, d in data["databases"].items():
        a = d["runs"][-1]["after_first"]
        lines.append(
            f"- {db}: after import {a['papers']:,} papers, {a['authors']:,} author rows, {a['categories']:,} "
            f"category rows, database {a['db_bytes'] / 2**20:.0f} MiB; measured {d['measured_at']}."
        )
    hist = [(db, h) for db, d in data["databases"].items() for h in d.get("history", [])]
    if hist:
        lines += ["", "## Earlier results (kept for comparison; same command, same machine)", "",
                  "| database | measured | commit | load avg at start | import papers/s | import wall s | "
                  "re-import papers/s | peak RSS MiB | targets missed |", "|---|---|---|---|---|---|---|---|---|"]
        for db, h in hist:
            s1, s2 = h["summary"]["first"], h["summary"]["reimport"]
            missed = [k for k, ok in (h.get("targets") or {}).items() if not ok]
            lines.append(
                f"| {db} | {h.get('measured_at')} | {h.get('git_commit') or '?'} | {h.get('loadavg_at_start')} | "
                f"{s1['median_papers_per_s']:,.0f} | {s1['median_wall_s']} | {s2['median_papers_per_s']:,.0f} | "
                f"{max(s1['max_maxrss_mib'], s2['max_maxrss_mib']):.0f} | {', '.join(missed) or 'none'} |"
            )
    notes = [f"{db}: {n}" for db, d in data["databases"].items() for n in d.get("notes", [])]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--repeat", type=int, default=3, help="runs on SQLite (default 3; the median is reported)")
    ap.add_argument("--pg-repeat", type=int, default=None,
                    help="runs on PostgreSQL (default: --repeat, capped at 3)")
    ap.add_argument("--corpus", type=Path, default=c.CORPUS, help="folder with part-00*.jsonl.gz")
    args = ap.parse_args()
    try:
        import django  # noqa: F401
        import paperboard  # noqa: F401
    except ImportError:
        sys.exit("run this with the project's virtualenv: .venv/bin/python bench/import_corpus.py (make install)")

    files = c.corpus_files(args.corpus)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    repeats = {"sqlite": max(1, args.repeat), "postgres": max(1, min(3, args.pg_repeat or args.repeat))}

    data = c.results_of_this_run(
        "import_corpus",
        corpus={"path": str(args.corpus), "files": len(files), "bytes": sum(f.stat().st_size for f in files),
                "papers": None},
        targets_definition={"sqlite_papers_per_s_min": TARGET_RATE, "peak_rss_max_mib": 1024,
                            "reimport_wall_le_first_wall": True},
    )
    if "postgres" in dbs:
        data["postgres_server"] = c.pg_server_version()
    for db in dbs:
        notes = []
        runs, use = [], files
        sanitised_dir = None
        try:
            for i in range(repeats[db]):
                r = one_run(db, use, i + 1)
                if r.get("failed"):
                    if use is not files:
                        sys.exit(f"{db}: the import failed even on the sanitised corpus: {r['first']['error']}")
                    failure = {"error": r["first"]["error"], "exit_code": r["first"]["exit_code"],
                               "wall_s": r["first"]["wall_s"], "papers_stored": r["after_first"]["papers"],
                               "files_done": r["first"]["done_files"]}
                    print(f"[{db}] writing a sanitised copy of the corpus and measuring on that ...", flush=True)
                    sanitised_dir = Path(tempfile.mkdtemp(prefix="pb-bench-corpus-"))
                    use, fixed = sanitised_corpus(files, sanitised_dir)
                    notes.append(
                        f"The import of the real corpus FAILED on {db} (exit {failure['exit_code']}, after "
                        f"{failure['wall_s']} s, {failure['papers_stored']:,} papers stored, files done: "
                        f"{', '.join(failure['files_done']) or 'none'}): `{failure['error']}`. The numbers for {db} "
                        f"were then measured on a copy of the corpus with author names longer than {AUTHOR_MAX} "
                        f"characters cut to {AUTHOR_MAX} ({len(fixed)} record(s): {', '.join(fixed)})."
                    )
                    r = one_run(db, use, i + 1)
                    if r.get("failed"):
                        sys.exit(f"{db}: the import failed even on the sanitised corpus: {r['first']['error']}")
                    r["real_corpus_failure"] = failure
                runs.append(r)
        finally:
            if sanitised_dir:
                c.rmtree_quiet(sanitised_dir)
        papers = {r["after_first"]["papers"] for r in runs}
        summary = summarise(runs)
        data["corpus"]["papers"] = max(papers)
        previous = data["databases"].get(db)
        history = previous.get("history", []) if previous else []
        if previous and "summary" in previous:  # keep earlier results' summaries: numbers here are noisy
            history = [{k: previous.get(k) for k in ("measured_at", "git_commit", "loadavg_at_start", "summary",
                                                    "targets", "corpus")}, *history][:10]
        data["databases"][db] = {
            "measured_at": c.machine_facts()["date"],
            "git_commit": data["machine"]["git_commit"],
            "loadavg_at_start": data["machine"]["loadavg_at_start"],
            "history": history,
            "runs": runs,
            "summary": summary,
            "targets": targets(db, summary),
            "papers_in_db": sorted(papers),
            "corpus": "real" if use is files else "sanitised (see notes)",
            "notes": notes,
        }
        if args.corpus == c.CORPUS and papers != {c.CORPUS_PAPERS}:
            print(f"warning: {db}: expected {c.CORPUS_PAPERS} papers, found {papers}", file=sys.stderr)
        c.write_results("import_corpus", data, markdown(data))
    for db in dbs:
        s = data["databases"][db]["summary"]
        print(f"{db}: import {s['first']['median_papers_per_s']:,.0f} papers/s ({s['first']['median_wall_s']} s, "
              f"RSS {s['first']['max_maxrss_mib']:.0f} MiB); re-import {s['reimport']['median_papers_per_s']:,.0f} "
              f"papers/s ({s['reimport']['median_wall_s']} s, RSS {s['reimport']['max_maxrss_mib']:.0f} MiB); "
              f"targets {data['databases'][db]['targets']}")


if __name__ == "__main__":
    main()
