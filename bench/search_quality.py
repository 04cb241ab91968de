"""Search quality: MRR@10, recall@10 and nDCG@10 of lexical, semantic and hybrid search on the labelled
query set bench/search_eval/queries.jsonl (binary relevance; see bench/search_eval/README.md).

Prepare a data dir once (the whole corpus + the seed papers, imported and indexed):

    export PAPERBOARD_DATA_DIR=var/searcheval
    .venv/bin/paperboard migrate
    .venv/bin/python bench/search_eval/seed_to_jsonl.py -o $PAPERBOARD_DATA_DIR/seed_papers.corpus.jsonl
    .venv/bin/paperboard import ../shared/data/arxiv_corpus/part-00*.jsonl.gz $PAPERBOARD_DATA_DIR/seed_papers.corpus.jsonl
    .venv/bin/paperboard index

Run:
    .venv/bin/python bench/search_quality.py --data-dir var/searcheval                  # report split
    .venv/bin/python bench/search_quality.py --data-dir var/searcheval --split all
    .venv/bin/python bench/search_quality.py --data-dir var/searcheval --fusion-k 30     # hybrid with k=30
    .venv/bin/python bench/search_quality.py --data-dir var/searcheval --tune-grid k=10,30,60,100
        # grid-search hybrid's keyword parameters on the TUNE split only (best nDCG@10, then MRR@10),
        # then evaluate every method on the REPORT split with the chosen values

For each query the three methods are called exactly as the app's interfaces define them:
    lexical.search(query.parse(text), K)   semantic.search(text, K)   hybrid.search(query.parse(text), K, **params)
and their `Hit.paper_id`s are mapped to arXiv ids through `Paper`. Hybrid parameters (`--fusion-k`,
`--hybrid-param NAME=VALUE`, `--tune-grid`) are passed as keyword arguments and checked against
`hybrid.search`'s signature first, so a parameter the module does not (yet) take is an error, not a no-op.

Writes OUT.json (every query's ranked ids and scores, per-method/per-split/per-kind metrics, failures,
machine and data facts) and OUT.md (summary); OUT defaults to bench/results/search_quality.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import hashlib
import inspect
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
EVAL = BENCH / "search_eval"
sys.path.insert(0, str(EVAL))

import check as qcheck  # noqa: E402
import metrics  # noqa: E402

METHODS = ("lexical", "semantic", "hybrid")
SPLITS = ("tune", "report")
FUSION_K_NAMES = ("k", "fusion_k", "rrf_k")  # what --fusion-k is passed as: the first name hybrid.search takes
EXPECTED_PAPERS = 275_081 + 34  # corpus + the seed papers the corpus lacks
WARMUP_TEXT = "warm up the indexes and the embedding model"


# --- setup -------------------------------------------------------------------------------------------------


def setup_django(data_dir: str | None, database_url: str | None) -> None:
    if data_dir:
        os.environ["PAPERBOARD_DATA_DIR"] = str(Path(data_dir).expanduser().resolve())
    if database_url is not None:
        os.environ["PAPERBOARD_DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def git_facts() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(status), "branch": git("rev-parse", "--abbrev-ref", "HEAD")}


def parse_value(text: str):
    """`60` -> 60, `0.5` -> 0.5, `true`/`false` -> bool, `none` -> None, anything else stays a string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_params(items: list[str]) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"--hybrid-param wants NAME=VALUE, got {item!r}")
        out[name.strip()] = parse_value(value)
    return out


def parse_grid(text: str) -> list[dict]:
    """`k=10,30,60;candidates=100,200` -> the cartesian product as a list of dicts."""
    axes = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, values = part.partition("=")
        if not sep or not values.strip():
            raise SystemExit(f"--tune-grid wants NAME=V1,V2[;NAME=...], got {part!r}")
        axes.append((name.strip(), [parse_value(v) for v in values.split(",") if v.strip()]))
    if not axes:
        raise SystemExit("--tune-grid is empty")
    names = [n for n, _ in axes]
    return [dict(zip(names, combo)) for combo in itertools.product(*(vals for _, vals in axes))]


def check_params(func, params: dict) -> None:
    """Exit with a clear message when `func` cannot take these keyword arguments."""
    sig = inspect.signature(func)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    takes = {n for n, p in sig.parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    unknown = sorted(set(params) - takes - {"query", "limit"})
    if unknown or {"query", "limit"} & set(params):
        raise SystemExit(
            f"hybrid.search{sig} does not take {', '.join(unknown) or 'query/limit as parameters'}; "
            "tune only what the module exposes"
        )


# --- running the methods -----------------------------------------------------------------------------------


class Runner:
    """Calls the three search methods and maps their hits to arXiv ids."""

    def __init__(self, k: int):
        from paperboard.papers.models import Paper
        from paperboard.search import query as q

        self.k = k
        self.Paper = Paper
        self.parse = q.parse
        self.modules: dict[str, object] = {}
        self.import_errors: dict[str, str] = {}
        for name in METHODS:
            try:
                self.modules[name] = __import__(f"paperboard.search.{name}", fromlist=["search"])
            except Exception as exc:  # noqa: BLE001 - report a missing module or dependency, keep going
                self.import_errors[name] = f"{type(exc).__name__}: {exc}"
        self._arxiv: dict[int, str] = {}

    def available(self, method: str) -> bool:
        return method in self.modules

    def call(self, method: str, text: str, params: dict | None = None) -> list:
        mod = self.modules[method]
        if method == "lexical":
            return list(mod.search(self.parse(text), self.k))
        if method == "semantic":
            return list(mod.search(text, self.k))
        return list(mod.search(self.parse(text), self.k, **(params or {})))

    def arxiv_ids(self, paper_ids: list[int]) -> dict[int, str]:
        missing = [p for p in paper_ids if p not in self._arxiv]
        if missing:
            self._arxiv.update(self.Paper.objects.filter(pk__in=missing).values_list("pk", "arxiv_id"))
        return {p: self._arxiv.get(p, f"<paper {p}>") for p in paper_ids}

    def run(self, method: str, queries: list[dict], params: dict | None = None) -> list[dict]:
        """One row per query: ranked arXiv ids, scores, metrics, latency (or the error it raised)."""
        rows = []
        if self.available(method):
            try:  # warm-up: first-call costs (model load, index load) must not land on one query
                self.call(method, WARMUP_TEXT, params)
            except Exception:  # noqa: BLE001 - the real queries will record the error
                pass
        for qq in queries:
            row = {"id": qq["id"], "split": qq["split"], "kind": qq["kind"], "source": qq["source"]}
            if not self.available(method):
                row.update(ranked=[], scores=[], error=f"import failed: {self.import_errors[method]}", ms=None)
            else:
                started = time.perf_counter()
                try:
                    hits = self.call(method, qq["query"], params)
                    row["error"] = None
                except Exception as exc:  # noqa: BLE001 - a failing query is a result, not a crash
                    hits = []
                    row["error"] = f"{type(exc).__name__}: {exc}"
                row["ms"] = round((time.perf_counter() - started) * 1000, 2)
                ids = self.arxiv_ids([h.paper_id for h in hits])
                row["ranked"] = [ids[h.paper_id] for h in hits][: self.k]
                row["scores"] = [round(float(h.score), 6) for h in hits][: self.k]
            row.update(metrics.per_query(row["ranked"], qq["relevant"], self.k))
            rows.append(row)
        return rows


def summarise(rows: list[dict], queries_by_id: dict[str, dict]) -> dict:
    """Aggregate metrics of some per-query rows, overall and by kind and source, with the failures."""
    out = metrics.aggregate(rows)
    lat = [r["ms"] for r in rows if r.get("ms") is not None]
    out["median_ms"] = round(statistics.median(lat), 2) if lat else None
    out["empty_results"] = sum(1 for r in rows if not r["ranked"])
    out["errors"] = sum(1 for r in rows if r.get("error"))
    for field in ("kind", "source"):
        groups = collections.defaultdict(list)
        for r in rows:
            groups[r[field]].append(r)
        out[f"by_{field}"] = {g: metrics.aggregate(rs) for g, rs in sorted(groups.items())}
    out["failed"] = [
        {
            "id": r["id"],
            "kind": r["kind"],
            "query": queries_by_id[r["id"]]["query"],
            "relevant": queries_by_id[r["id"]]["relevant"],
            "top3": r["ranked"][:3],
            "error": r.get("error"),
        }
        for r in rows
        if r["hit"] == 0
    ]
    return out


def evaluate(runner: Runner, queries: list[dict], methods: list[str], params: dict) -> dict:
    by_id = {q["id"]: q for q in queries}
    result = {}
    for method in methods:
        rows = runner.run(method, queries, params if method == "hybrid" else None)
        splits_present = [s for s in SPLITS if any(q["split"] == s for q in queries)]
        result[method] = {
            "per_split": {s: summarise([r for r in rows if r["split"] == s], by_id) for s in splits_present},
            "all": summarise(rows, by_id) if len(splits_present) > 1 else None,
            "queries": rows,
        }
        if method == "hybrid":
            result[method]["params"] = params
    return result


def tune(runner: Runner, queries: list[dict], grid: list[dict], base: dict) -> tuple[dict, list[dict]]:
    """Evaluate hybrid on `queries` (the tune split) for every grid point; best nDCG@10, then MRR@10, then
    recall@10. On a full tie the module's own defaults win (no change without evidence), else the first point."""
    sig = inspect.signature(runner.modules["hybrid"].search)
    defaults = {n: p.default for n, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}
    table = []
    for point in grid:
        params = {**base, **point}
        rows = runner.run("hybrid", queries, params)
        agg = metrics.aggregate(rows)
        table.append({"params": params, **{k: agg[k] for k in ("mrr", "recall", "ndcg", "hit_rate", "n")}})
        print(f"  tune {params}: nDCG@{runner.k} {agg['ndcg']:.4f}  MRR {agg['mrr']:.4f}  R {agg['recall']:.4f}", flush=True)
    def key(t: dict) -> tuple:
        return (t["ndcg"], t["mrr"], t["recall"])

    top = max(map(key, table))
    tied = [t for t in table if key(t) == top]
    best = next((t for t in tied if all(defaults.get(n, object()) == v for n, v in t["params"].items())), tied[0])
    return best["params"], table


# --- facts and output --------------------------------------------------------------------------------------


def data_facts(runner: Runner, queries: list[dict]) -> dict:
    from django.conf import settings
    from django.db import connection

    Paper = runner.Paper
    facts = {
        "data_dir": str(settings.DATA_DIR),
        "database_vendor": connection.vendor,
        "papers": Paper.objects.count(),
        "visible_papers": Paper.objects.filter(hidden=False).count(),
        "expected_papers": EXPECTED_PAPERS,
    }
    wanted = sorted({a for q in queries for a in q["relevant"]})
    have = set(Paper.objects.filter(arxiv_id__in=wanted).values_list("arxiv_id", flat=True))
    facts["relevant_ids"] = len(wanted)
    facts["relevant_missing_in_db"] = [a for a in wanted if a not in have]
    pending = {}
    for name, path in (("lexical", "paperboard.search.lexical:LexicalIndexer"),
                       ("semantic", "paperboard.search.semantic:SemanticIndexer")):
        try:
            module, _, cls = path.partition(":")
            pending[name] = getattr(__import__(module, fromlist=[cls]), cls)().pending()
        except Exception as exc:  # noqa: BLE001
            pending[name] = f"unknown ({type(exc).__name__}: {exc})"
    facts["index_pending"] = pending
    try:
        from paperboard.search.semantic import embed

        facts["embedding_model"] = embed.model_key()
    except Exception:  # noqa: BLE001
        facts["embedding_model"] = None
    return facts


def fmt(x) -> str:
    return "—" if x is None else f"{x:.3f}"


def markdown(report: dict) -> str:
    k = report["k"]
    f = report["data"]
    lines = [
        "# Search quality",
        "",
        f"Run {report['date']} · commit `{report['git']['commit'][:12] or '?'}`{' (+ uncommitted changes)' if report['git']['dirty'] else ''}"
        f" · {f['papers']:,} papers in the database ({f['database_vendor']}, `{f['data_dir']}`)"
        f" · {report['queries']['n']} labelled queries (`{report['queries']['file']}`, sha256 `{report['queries']['sha256'][:12]}`)",
        "",
        f"Binary relevance, cut-off k = {k}. MRR@{k}: mean of 1/rank of the first relevant paper; R@{k}: share of the "
        f"relevant papers in the top {k}; nDCG@{k}: DCG with gain 1 and discount 1/log2(rank+1), over the ideal DCG; "
        f"hit: a relevant paper in the top {k}. Per-query values are averaged with equal weight "
        "(bench/search_eval/metrics.py).",
        "",
    ]
    if f["papers"] < f["expected_papers"]:
        lines += [f"> **Partial data**: {f['papers']:,} papers, not the full corpus + seed ({f['expected_papers']:,}). "
                  "Numbers are not comparable with full-corpus runs.", ""]
    if f["relevant_missing_in_db"]:
        lines += [f"> **{len(f['relevant_missing_in_db'])} relevant papers are not in the database**: "
                  + ", ".join(f["relevant_missing_in_db"][:20]) + ("…" if len(f["relevant_missing_in_db"]) > 20 else ""), ""]
    pend = {n: v for n, v in f["index_pending"].items() if v}
    if pend:
        lines += ["> **Indexes not complete** (papers pending): " + ", ".join(f"{n}: {v}" for n, v in pend.items()), ""]
    if report.get("tuning"):
        t = report["tuning"]
        lines += [f"## Hybrid tuning (tune split, {t['table'][0]['n']} queries)", "",
                  f"| params | nDCG@{k} | MRR@{k} | R@{k} | hit |", "|---|---|---|---|---|"]
        for row in t["table"]:
            mark = " **(chosen)**" if row["params"] == t["chosen"] else ""
            lines.append(f"| `{json.dumps(row['params'])}`{mark} | {fmt(row['ndcg'])} | {fmt(row['mrr'])} | "
                         f"{fmt(row['recall'])} | {fmt(row['hit_rate'])} |")
        lines += ["", "The chosen values are then used, unchanged, on the report split below.", ""]
    lines += ["## Results", "", f"| method | split | n | MRR@{k} | R@{k} | nDCG@{k} | hit | empty | median ms |",
              "|---|---|---|---|---|---|---|---|---|"]
    for method, res in report["results"].items():
        parts = list(res["per_split"].items()) + ([("all", res["all"])] if res.get("all") else [])
        for split, s in parts:
            lines.append(f"| {method} | {split} | {s['n']} | {fmt(s['mrr'])} | {fmt(s['recall'])} | {fmt(s['ndcg'])} | "
                         f"{fmt(s['hit_rate'])} | {s['empty_results']} | {s['median_ms'] if s['median_ms'] is not None else '—'} |")
    hp = report["results"].get("hybrid", {}).get("params")
    if hp is not None:
        lines += ["", f"Hybrid called with {json.dumps(hp) if hp else 'its defaults'}."]
    errs = report.get("import_errors")
    if errs:
        lines += ["", "Methods that could not be imported: " + "; ".join(f"{m}: {e}" for m, e in errs.items())]
    lines += ["", f"## nDCG@{k} by query kind", "",
              "| method | split | " + " | ".join(qcheck.KINDS) + " |", "|---|---|" + "---|" * len(qcheck.KINDS)]
    for method, res in report["results"].items():
        for split, s in res["per_split"].items():
            cells = [f"{fmt(s['by_kind'][kd]['ndcg'])} ({s['by_kind'][kd]['n']})" if kd in s["by_kind"] else "—"
                     for kd in qcheck.KINDS]
            lines.append(f"| {method} | {split} | " + " | ".join(cells) + " |")
    lines += ["", f"## nDCG@{k} by where the target came from", "", "| method | split | seed | corpus |", "|---|---|---|---|"]
    for method, res in report["results"].items():
        for split, s in res["per_split"].items():
            cells = [f"{fmt(s['by_source'][src]['ndcg'])} ({s['by_source'][src]['n']})" if src in s["by_source"] else "—"
                     for src in qcheck.SOURCES]
            lines.append(f"| {method} | {split} | " + " | ".join(cells) + " |")
    lines += ["", f"## Failed queries (no relevant paper in the top {k})", ""]
    failed_sets = {}
    for method, res in report["results"].items():
        for split, s in res["per_split"].items():
            failed_sets.setdefault(method, set()).update(x["id"] for x in s["failed"])
            lines.append(f"**{method}, {split}**: {len(s['failed'])} of {s['n']}")
            lines.append("")
            for x in s["failed"]:
                why = f" — error: {x['error']}" if x.get("error") else ("" if x["top3"] else " — no results")
                lines.append(f"- `{x['id']}` ({x['kind']}) {x['query'][:110]}{'…' if len(x['query']) > 110 else ''}{why}")
            lines.append("")
    if failed_sets:
        common = set.intersection(*failed_sets.values())
        lines += [f"Failed by every method: {', '.join(sorted(common)) or 'none'}.", ""]
    lines += ["Per-query rankings, scores and latencies are in the JSON file next to this one.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()), formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", help="PAPERBOARD_DATA_DIR of a prepared instance (default: the environment's)")
    ap.add_argument("--database-url", help="PAPERBOARD_DATABASE_URL (default: the environment's; empty = SQLite in the data dir)")
    ap.add_argument("--split", choices=("report", "tune", "all"), default="report")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of lexical,semantic,hybrid")
    ap.add_argument("--k", type=int, default=metrics.K, help="cut-off (default 10)")
    ap.add_argument("--fusion-k", type=float, help=f"hybrid's RRF constant (passed as the first of {FUSION_K_NAMES} it takes)")
    ap.add_argument("--hybrid-param", action="append", default=[], metavar="NAME=VALUE",
                    help="extra keyword argument for hybrid.search (repeatable), e.g. a weight")
    ap.add_argument("--tune-grid", metavar="NAME=V1,V2[;NAME=...]",
                    help="grid-search hybrid parameters on the tune split, then report on the report split")
    ap.add_argument("--queries", default=str(qcheck.QUERIES))
    ap.add_argument("--out", default=str(BENCH / "results" / "search_quality"), help="output prefix (writes .json and .md)")
    ap.add_argument("--allow-partial", action="store_true",
                    help="run even when relevant papers are missing from the database (e.g. a small test instance)")
    args = ap.parse_args(argv)

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if bad := [m for m in methods if m not in METHODS]:
        raise SystemExit(f"unknown method(s) {bad}; choose from {METHODS}")
    if args.tune_grid and args.split != "report":
        raise SystemExit("--tune-grid tunes on the tune split and reports on the report split; leave --split at report")

    queries = qcheck.load_queries(args.queries)
    setup_django(args.data_dir, args.database_url)
    runner = Runner(args.k)

    params = parse_params(args.hybrid_param)
    hybrid_fn = getattr(runner.modules.get("hybrid"), "search", None)
    if args.fusion_k is not None:
        if hybrid_fn is None:
            raise SystemExit("--fusion-k given but paperboard.search.hybrid cannot be imported")
        names = inspect.signature(hybrid_fn).parameters
        name = next((n for n in FUSION_K_NAMES if n in names), None)
        if name is None:
            raise SystemExit(f"hybrid.search{inspect.signature(hybrid_fn)} takes none of {FUSION_K_NAMES}")
        params[name] = int(args.fusion_k) if float(args.fusion_k).is_integer() else args.fusion_k
    grid = parse_grid(args.tune_grid) if args.tune_grid else []
    if hybrid_fn is not None:
        for point in grid or [{}]:
            check_params(hybrid_fn, {**params, **point})
    elif params or grid:
        raise SystemExit("hybrid parameters given but paperboard.search.hybrid cannot be imported")

    facts = data_facts(runner, queries)
    if facts["relevant_missing_in_db"] and not args.allow_partial:
        raise SystemExit(
            f"{len(facts['relevant_missing_in_db'])} relevant papers are not in {facts['data_dir']} "
            f"(e.g. {', '.join(facts['relevant_missing_in_db'][:5])}): import the corpus and the seed papers "
            "(see this file's docstring), or pass --allow-partial"
        )
    print(f"{facts['papers']:,} papers in {facts['data_dir']} ({facts['database_vendor']}); index pending: {facts['index_pending']}")

    tuning = None
    if grid:
        tune_queries = [q for q in queries if q["split"] == "tune"]
        print(f"tuning hybrid on {len(tune_queries)} tune queries, {len(grid)} grid points", flush=True)
        chosen, table = tune(runner, tune_queries, grid, params)
        params = chosen
        tuning = {"grid": args.tune_grid, "chosen": chosen, "table": table, "criterion": "max nDCG, then MRR, then recall; on a full tie the module defaults"}
        print(f"chosen: {chosen}")

    selected = queries if args.split == "all" else [q for q in queries if q["split"] == args.split]
    results = evaluate(runner, selected, methods, params)

    qbytes = Path(args.queries).read_bytes()
    report = {
        "benchmark": "search_quality",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git": git_facts(),
        "machine": {"host": platform.node(), "python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "loadavg_1m": os.getloadavg()[0]},
        "k": args.k,
        "split": args.split,
        "methods": methods,
        "queries": {"file": os.path.relpath(args.queries, REPO), "sha256": hashlib.sha256(qbytes).hexdigest(),
                    "n": len(selected), "n_file": len(queries)},
        "data": facts,
        "import_errors": runner.import_errors,
        "tuning": tuning,
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = Path(f"{out}.json"), Path(f"{out}.md")
    json_path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    md_path.write_text(markdown(report))
    for method, res in results.items():
        for split, s in res["per_split"].items():
            print(f"{method:<9} {split:<7} n={s['n']:<3} MRR@{args.k} {s['mrr']:.3f}  R@{args.k} {s['recall']:.3f}  "
                  f"nDCG@{args.k} {s['ndcg']:.3f}  failed {len(s['failed'])}")
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
