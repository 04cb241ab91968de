"""Digest sending: render and send digests to N subscribers through SMTP to a local sink.

    .venv/bin/python bench/digest_send.py                    # 100,000 subscribers (and a 20,000 run for memory)
    .venv/bin/python bench/digest_send.py --subscribers 5000 --small 1000   # a quick look
    .venv/bin/python bench/digest_send.py --processes 1                      # one sender process

Needs Postfix's `smtp-sink` (Debian: `apt-get install postfix`; only the sink runs, not Postfix): a C
SMTP server that accepts and discards mail far faster than a Python one (aiosmtpd tops out near
200-250 messages/s here and would measure itself).

Setup (not timed): a fresh SQLite data dir with the demo data (`paperboard demo --no-serve`: 3,092
papers, 30 days of feed, votes), then N confirmed subscribers with varied preferences, all due now:
frequency weekdays/daily/weekly, sections top/trending in every combination, 40% with 1-3 arXiv
categories, max papers 5-20, 20% with a minimum upvote count.

Timed: `paperboard digest send --processes P` (default 2, one per core here) in a subprocess with PAPERBOARD_SMTP_URL pointing at the sink: wall
time, messages/s (deliveries marked sent / time), the sender's peak anonymous memory (RssAnon, sampled:
heap, not the SQLite file it maps), the largest child's peak RSS, and the sink's CPU seconds as a share
of the run. Memory flatness: the same at a smaller N (--small); the sender's memory should not grow
with N.

Writes bench/results/digest_send.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import _common as c  # noqa: E402

SEED = r"""
import os, random, sys, datetime as dt
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
import django; django.setup()
from django.utils import timezone
from paperboard.digests.models import Subscription
from paperboard.papers.models import PaperCategory
from django.db.models import Count
n = int(sys.argv[1])
rng = random.Random(42)
cats = [c for c, _ in PaperCategory.objects.values_list("code").annotate(n=Count("paper")).order_by("-n")[:30].values_list("code", "n")]
now = timezone.now()
due = now - dt.timedelta(minutes=1)
freqs = ["weekdays", "daily", "weekly"]
combos = [["top", "trending"], ["top"], ["trending"]]
batch = []
for i in range(n):
    prefs = {"sections": rng.choice(combos), "max_papers": rng.randint(5, 20)}
    if rng.random() < 0.4:
        prefs["categories"] = rng.sample(cats, rng.randint(1, 3))
    if rng.random() < 0.2:
        prefs["min_upvotes"] = rng.choice([1, 2, 5])
    batch.append(Subscription(email=f"reader{i}@bench.example", confirmed_at=now, frequency=rng.choice(freqs),
                              preferences=prefs, next_due_at=due))
    if len(batch) == 5000:
        Subscription.objects.bulk_create(batch); batch = []
if batch:
    Subscription.objects.bulk_create(batch)
print(Subscription.objects.count())
"""

COUNT = r"""
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
import django; django.setup()
from django.db.models import Count
from paperboard.digests.models import Delivery
print(dict(Delivery.objects.values_list("status").annotate(n=Count("id"))))
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class AnonSampler:
    """Samples the sender's anonymous memory (RssAnon: heap, not the SQLite file it maps) every 0.1 s, the
    largest of the sending process and its forked children: what grows if the sender keeps state per
    subscriber."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.peak_kib = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _pids(self) -> list[int]:
        out = [self.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.pid:
                    out.append(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                pass
        return out

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for pid in self._pids():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("RssAnon:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                except OSError:
                    pass


def run_once(n: int, work: Path, demo_template: Path, processes: int) -> dict:
    data_dir = work / f"n{n}"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    shutil.copytree(demo_template, data_dir)
    env = c.app_env(data_dir)
    py = sys.executable
    subprocess.run([py, "-c", SEED, str(n)], env=env, cwd=c.REPO, check=True, capture_output=True, text=True)
    port = c.free_port()
    sink = subprocess.Popen(["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1024"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        env["PAPERBOARD_SMTP_URL"] = f"smtp://127.0.0.1:{port}?starttls=false"
        sink_before = cpu_seconds(sink.pid)
        t = time.perf_counter()
        p = subprocess.Popen(c.paperboard_cmd("digest", "send", "--processes", str(processes)), env=env, cwd=c.REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = AnonSampler(p.pid)
        sampler.start()
        out, err = p.communicate(timeout=3600)
        wall = time.perf_counter() - t
        sampler.stop()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        sink_cpu = cpu_seconds(sink.pid) - sink_before
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    if p.returncode:
        raise RuntimeError(f"digest send failed ({p.returncode}):\n{out[-2000:]}\n{err[-3000:]}")
    statuses = json.loads(subprocess.run([py, "-c", COUNT], env=env, cwd=c.REPO, check=True, capture_output=True,
                                         text=True).stdout.strip().replace("'", '"'))
    sent = statuses.get("sent", 0)
    return {"subscribers": n, "processes": processes, "wall_s": round(wall, 1), "sent": sent, "statuses": statuses,
            "messages_per_s": round(sent / wall, 1), "peak_rss_mib_max_child": round(usage.ru_maxrss / 1024),
            "sender_peak_anon_mib": round(sampler.peak_kib / 1024, 1),
            "sink_cpu_s": round(sink_cpu, 1), "sink_cpu_share_pct": round(100 * sink_cpu / wall / (os.cpu_count() or 1), 1),
            "output": out.strip().splitlines()[-1] if out.strip() else ""}


def peak_rss_of_run(n: int, work: Path, demo_template: Path, processes: int) -> dict:
    """Run in a child Python so that ru_maxrss of RUSAGE_CHILDREN is this run's alone: the largest of its
    processes (the seed, each sender process, the count)."""
    p = subprocess.run([sys.executable, __file__, "--one", str(n), "--work", str(work), "--template", str(demo_template),
                        "--processes", str(processes)],
                       capture_output=True, text=True, timeout=7200)
    if p.returncode:
        raise RuntimeError(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=20_000, help="a smaller run to show memory is flat (0: skip)")
    ap.add_argument("--processes", type=int, default=2, help="sender processes (`digest send --processes`)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--template", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_once(args.one, args.work, args.template, args.processes)))
        return
    if not shutil.which("smtp-sink"):
        sys.exit("smtp-sink not found: apt-get install postfix (only its smtp-sink program is used)")
    work = c.REPO / "var" / "bench-digest"
    template = work / "demo"
    if not (template / "paperboard.sqlite3").exists():
        template.mkdir(parents=True, exist_ok=True)
        c.run_checked(c.paperboard_cmd("demo", "--no-serve"), c.app_env(template), 1800)
    runs = []
    for n in [x for x in (args.small, args.subscribers) if x]:
        print(f"{n:,} subscribers ...", flush=True)
        r = peak_rss_of_run(n, work, template, args.processes)
        print(f"  {r}", flush=True)
        runs.append(r)
    big = runs[-1]
    data = {"benchmark": "digest_send", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": c.machine_facts(), "command": "python bench/digest_send.py " + " ".join(sys.argv[1:]),
            "sink": "Postfix smtp-sink (accepts and discards)", "runs": runs}
    lines = [f"# Digest sending: {big['subscribers']:,} subscribers", "", f"`{data['command']}` on {data['date']}.", "",
             c.machine_md(data["machine"]), "",
             "| subscribers | sender processes | sent | time | messages/s | sender's peak anonymous memory | peak RSS (largest child: seed, sender, count; includes SQLite's mapped file) | sink CPU share |",
             "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['subscribers']:,} | {r['processes']} | {r['sent']:,} | {r['wall_s']} s | {r['messages_per_s']} | "
                     f"{r['sender_peak_anon_mib']} MiB | {r['peak_rss_mib_max_child']} MiB | {r['sink_cpu_share_pct']}% of the machine |")
    target = big["messages_per_s"] >= 300
    lines += ["", f"Target ≥ 300 messages/s: **{'met' if target else 'not met'}**. Statuses: {big['statuses']}.", ""]
    c.write_results("digest_send", data, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
