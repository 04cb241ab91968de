"""Helpers shared by the benchmarks: machine facts, running `paperboard`, PostgreSQL scratch databases,
medians, and writing results (JSON + Markdown) into bench/results/.

Only the standard library and what the project's virtualenv already has (psycopg) are used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
CORPUS = (REPO / ".." / "shared" / "data" / "arxiv_corpus").resolve()
CORPUS_PAPERS = 275_081
PG_BASE_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def corpus_files(corpus: Path = CORPUS) -> list[Path]:
    files = sorted(corpus.glob("part-00*.jsonl.gz"))
    if not files:
        sys.exit(f"no corpus parts (part-00*.jsonl.gz) under {corpus}")
    return files


def paperboard_cmd(*args: str) -> list[str]:
    """`paperboard ARGS` run with this interpreter (the project's virtualenv)."""
    return [sys.executable, "-m", "paperboard", *args]


SECRET_KEY = secrets.token_urlsafe(50)  # one per benchmark run, shared by all its processes


def app_env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    """Environment for one paperboard process: its own data dir and database, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOARD_")}
    env["PAPERBOARD_DATA_DIR"] = str(data_dir)
    env["PAPERBOARD_DATABASE_URL"] = database_url  # empty: SQLite under the data dir
    env["PAPERBOARD_SECRET_KEY"] = SECRET_KEY  # `serve` and `worker` refuse to start without a strong key
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_checked(cmd: list[str], env: dict, timeout: float, log: Path | None = None) -> str:
    """Run a command to completion (bounded by `timeout`); return stdout; exit on failure."""
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if log is not None:
        log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


# --- PostgreSQL scratch databases -------------------------------------------------------------------


def pg_url(dbname: str) -> str:
    return f"{PG_BASE_URL.rstrip('/')}/{dbname}"


def _pg_admin():
    import psycopg

    return psycopg.connect(pg_url("postgres"), autocommit=True, connect_timeout=10)


def pg_create(dbname: str) -> str:
    """Drop (if left over) and create database `dbname`; return its URL."""
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return pg_url(dbname)


def pg_drop(dbname: str) -> None:
    try:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    except Exception as exc:  # noqa: BLE001 - clean-up must not hide the real result
        print(f"warning: could not drop database {dbname}: {exc}", file=sys.stderr)


def pg_exists(dbname: str) -> bool:
    with _pg_admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is not None


def pg_query(dbname: str, sql: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(pg_url(dbname), connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def pg_server_version() -> str:
    try:
        with _pg_admin() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001
        return f"unavailable ({exc.__class__.__name__})"


def sqlite_query(path: Path, sql: str, params=()) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- facts, statistics, output ----------------------------------------------------------------------


def machine_facts() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=REPO, capture_output=True, text=True, timeout=30,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "unknown", None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_worktree_dirty": dirty,
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "mem_total_gib": mem_gib,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": __import__("sqlite3").sqlite_version,
    }


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load_results(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except ValueError:
            pass
    return {}


def results_of_this_run(benchmark: str, *, file: str | None = None, machine: dict | None = None, **fields) -> dict:
    """The saved results of `benchmark` (bench/results/FILE.json; its results per database are kept), headed
    by this run: the benchmark, the command that ran it, the machine (measured now unless given) and `fields`."""
    data = load_results(file or benchmark)
    data.setdefault("databases", {})
    data.update(
        benchmark=benchmark,
        command=f"make install && .venv/bin/python bench/{benchmark}.py " + " ".join(sys.argv[1:]),
        machine=machine if machine is not None else machine_facts(),
        **fields,
    )
    return data


def write_results(name: str, data: dict, markdown: str) -> None:
    """Write bench/results/NAME.json and NAME.md atomically (via .tmp files)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for suffix, text in ((".json", json.dumps(data, indent=2, sort_keys=False) + "\n"), (".md", markdown)):
        tmp = RESULTS / f"{name}{suffix}.tmp"
        tmp.write_text(text)
        tmp.replace(RESULTS / f"{name}{suffix}")
    print(f"wrote {RESULTS / (name + '.json')} and {RESULTS / (name + '.md')}")


def machine_md(m: dict) -> str:
    dirty = " (working tree has uncommitted changes)" if m.get("git_worktree_dirty") else ""
    return (
        f"- date: {m['date']}; git commit `{m['git_commit']}`{dirty}\n"
        f"- machine: {m['nproc']} CPUs, {m['cpu_model']}, {m.get('mem_total_gib')} GiB RAM; "
        f"load average at start {m['loadavg_at_start']}\n"
        f"- Python {m['python']}, SQLite {m['sqlite']}; {m['platform']}\n"
    )


def report_head(title: str, data: dict) -> list[str]:
    """The first lines of a Markdown report: its title, the command that made it, the machine it ran on."""
    return [f"# {title}", "", "`" + data["command"] + "`", "", machine_md(data["machine"]).rstrip()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def rmtree_quiet(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class Deadline:
    """A wall-clock budget for a whole benchmark, so no loop runs unbounded."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise TimeoutError(f"benchmark time budget exhausted before {what}")
