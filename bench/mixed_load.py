"""Benchmark: a mixed workload (pages, search, votes and comments) at rising concurrency, with wrk.

About 70 % feed and paper pages (half anonymous, half logged in), 20 % search (the search page and
`/api/papers/search`), 10 % writes by logged-in users (upvotes, some comments), against
`paperboard serve --workers 2` on (a) SQLite and (b) PostgreSQL + Redis (PAPERBOARD_CACHE_URL), with the
whole corpus imported, the demo community on top and the lexical search index built.

1. Prepare each database as bench/http_load.py does (`paperboard import` of the 9 corpus parts, then
   `paperboard demo --no-serve`), build the lexical index (`paperboard index --only lexical`) and ANALYZE
   when the planner has no statistics. `--data-dir DIR` (SQLite) / `--pg-db NAME` (PostgreSQL) keep a loaded
   database and reuse it next time.
2. Create a pool of bench users (`mixbench-NNNN`, confirmed, 60 days old) with a logged-in session each
   (Django's session store, as a log-in would write it) and a CSRF cookie/token pair, in a subprocess
   running this file with `--helper setup`. Any bench users left from an earlier run are removed first,
   their votes and comments taken off the papers' counters.
3. For each step of `--steps` (connections 1, 2, 4, ... 64): a warm-up run, then a measured wrk run with as
   many threads as connections (one connection per wrk thread, so each answer is matched to its request:
   per-type counts and latencies, and which votes were answered 2xx). Per step: requests/s, p50/p95/p99,
   errors (socket errors, non-2xx with 429 and 5xx apart, votes refused inside a 2xx answer), per-type
   latency, server CPU per request, load average; then the vote check: the bench users' vote rows in the
   database against the votes the generator sent and got 2xx for (a 2xx vote missing from the database is
   a lost vote; an upvote counter that no longer matches its vote rows is drift).
4. The knee: the first step after which going to the next step raises throughput by less than 10 % while
   p95 rises.
5. Stop the server (always), remove the bench users again from a kept database, drop temporary
   databases, and write bench/results/mixed_load.json and .md (a run for one database keeps the other's).

Votes are never toggles: each is `action=add` for a (user, paper) pair no earlier request used. Rate limits
(vote 120/min, comment 10/min per user, paperboard/ratelimit.py) are never reached by construction: each
user belongs to one wrk thread, which spaces that user's votes >= 0.55 s and comments >= 6.5 s apart (across
runs too) and sends a logged-in page view instead when none of its users may write yet.

Run:  .venv/bin/python bench/mixed_load.py [--db sqlite|postgres|both] [--data-dir DIR] [--pg-db NAME]
Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402
import http_load as hl  # noqa: E402

HOST = hl.HOST  # never anything else
NAME = "mixed_load"
USER_PREFIX = "mixbench-"
DEFAULT_STEPS = "1,2,4,8,16,32,64"
KNEE_GROWTH = 0.10  # the next step adds less than 10 % throughput ...
VOTE_GAP_S = 0.55  # <= 110 votes per user per 60 s window (limit 120)
COMMENT_GAP_S = 6.5  # <= 10 comments per user per 60 s window (limit 10)
FEED_DAYS = 30  # the demo community's feed days
PAPER_SAMPLE = 1500  # random corpus papers whose pages are read, beside the feed's papers

# Share of requests (percent) per kind; "_user" kinds carry a bench user's session cookie.
MIX = {
    "feed": 10.0, "feed_user": 10.0,  # /papers, /papers/date/<day> (the 30 feed days)
    "period": 4.0, "period_user": 4.0,  # /papers/week/<w>, /papers/month/<m>
    "trending": 3.5, "trending_user": 3.5,  # /papers/trending (pages 1-2)
    "paper": 17.5, "paper_user": 17.5,  # /papers/<id>: feed papers and random corpus papers
    "search": 6.0, "search_user": 6.0,  # /papers/search?q=
    "search_api": 8.0,  # /api/papers/search?q=&limit=20
    "vote": 8.5,  # POST /papers/<id>/upvote action=add (htmx)
    "comment": 1.5,  # POST /papers/<id>/comments (htmx)
}
GROUPS = {
    "pages": ("feed", "feed_user", "period", "period_user", "trending", "trending_user",
              "paper", "paper_user"),
    "search": ("search", "search_user", "search_api"),
    "writes": ("vote", "comment"),
}
COMMENTS = [
    "Nice result. Did you try the ablation without the **auxiliary loss**? Table 3 suggests it matters.",
    "How does this compare with the baseline from last year's workshop paper? The numbers look close.",
    "The code link in the abstract is broken for me; is there a mirror?",
    ("Interesting: the scaling curve in Figure 2 bends earlier than I expected.\n\n"
     "> data quality beats size\n\nIs that true beyond 1B tokens?"),
    "Great read. A small typo in eq. (4): the sum should run to *N*, not *N-1*.",
    "Would be good to see error bars over more than three seeds.",
    "We reproduced the main table on our own data: within 0.5 points of the reported numbers.",
    "Does the method need the full fine-tuning run, or does a LoRA adapter do?",
    "Related: the follow-up with `torch.compile` gets a 1.4x speed-up on the same benchmark.",
    "Clear write-up. The related-work section misses two recent papers on the same question, though.",
]

# The workload: a wrk Lua script on top of http_load's (its init/response bookkeeping and its done() report).
LUA_MIX = r"""
-- paperboard mixed workload: per request a kind drawn by weight; one connection per wrk thread, so every
-- response() answers this thread's last request(). Each thread logs to its own file (log_<tid>.txt):
--   S kind user paper                     a request about to be sent (user/paper: -1 when none)
--   R kind status latency_us user paper flag   its answer (flag: 1 vote refused in a 2xx answer,
--                                         2 a 2xx vote answer not showing the vote)
--   USER idx votes_sent last_vote_us last_comment_us   a user's write state (the last line counts)
--   D kind                                a write deferred (none of the thread's users may write yet)
-- A final S without its R was in flight when wrk stopped. (Files, not thread:get(): wrk 4.1's copy of a
-- table between Lua states pops one stack slot too many.)
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } pb_timespec;
int clock_gettime(int clk_id, pb_timespec *tp);
]]
local ts = ffi.new("pb_timespec")
local function clock_us(clock)  -- 0: realtime (rate-limit spacing across runs), 1: monotonic (latency)
  ffi.C.clock_gettime(clock, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local function lines(name)
  local t = {}
  for line in io.lines(os.getenv("PB_MIX_DIR") .. "/" .. name) do
    if #line > 0 then t[#t + 1] = line end
  end
  return t
end

local common_init = init
function init(args)
  common_init(args)
  local cfg = {}
  for _, l in ipairs(lines("config.txt")) do
    local k, v = l:match("^(%S+)%s+(.*)$")
    cfg[k] = v
  end
  nthreads = tonumber(cfg.threads)
  vote_gap = tonumber(cfg.vote_gap_us)
  comment_gap = tonumber(cfg.comment_gap_us)
  math.randomseed(tonumber(cfg.seed) + tid * 7919)
  paths = {}
  for _, kind in ipairs({"feed", "period", "trending", "paper", "search", "search_api"}) do
    paths[kind] = lines("paths_" .. kind .. ".txt")
  end
  targets = lines("targets.txt")
  bodies = lines("comments.txt")
  kinds, cum, mix_total = {}, {}, 0
  for _, l in ipairs(lines("mix.txt")) do
    local k, w = l:match("^(%S+)%s+(%S+)$")
    mix_total = mix_total + tonumber(w)
    kinds[#kinds + 1] = k
    cum[#cum + 1] = mix_total
  end
  u_idx, u_cookie, u_token, u_sent, u_last_vote, u_last_comment = {}, {}, {}, {}, {}, {}
  nusers = 0
  for _, l in ipairs(lines("users.txt")) do
    local idx, sid, tok, sec, sent, lv, lc = l:match("^(%d+) (%S+) (%S+) (%S+) (%d+) (%d+) (%d+)$")
    idx = tonumber(idx)
    if idx % nthreads == tid - 1 then  -- each user belongs to exactly one thread
      nusers = nusers + 1
      u_idx[nusers], u_token[nusers] = idx, tok
      u_cookie[nusers] = "sessionid=" .. sid .. "; csrftoken=" .. sec
      u_sent[nusers], u_last_vote[nusers], u_last_comment[nusers] = tonumber(sent), tonumber(lv), tonumber(lc)
    end
  end
  rot = 0
  logf = assert(io.open(os.getenv("PB_MIX_DIR") .. "/log_" .. tid .. ".txt", "w"))
  answered = 0
end

local function write_request(kind)
  -- the next of this thread's users allowed to write now (rate-limit spacing); nil when none is
  local now = clock_us(0)
  for i = 1, nusers do
    local j = (rot + i - 1) % nusers + 1
    local ok
    if kind == "vote" then
      ok = now - u_last_vote[j] >= vote_gap and u_sent[j] < #targets
    else
      ok = now - u_last_comment[j] >= comment_gap
    end
    if ok then
      rot = (rot + i) % nusers
      local h = {["Cookie"] = u_cookie[j], ["X-CSRFToken"] = u_token[j], ["HX-Request"] = "true",
                 ["Content-Type"] = "application/x-www-form-urlencoded"}
      local p, path, body
      if kind == "vote" then
        -- user idx's n-th vote goes to paper (idx * 7919 + n) mod #targets: distinct for n < #targets
        p = (u_idx[j] * 7919 + u_sent[j]) % #targets
        u_sent[j] = u_sent[j] + 1
        u_last_vote[j] = now
        path = "/papers/" .. targets[p + 1] .. "/upvote"
        body = "action=add&next=%2Fpapers%2F" .. targets[p + 1]
      else
        p = math.random(#targets) - 1
        u_last_comment[j] = now
        path = "/papers/" .. targets[p + 1] .. "/comments"
        body = "body=" .. bodies[math.random(#bodies)]
      end
      logf:write(string.format("USER %d %d %.0f %.0f\n",
                               u_idx[j], u_sent[j], u_last_vote[j], u_last_comment[j]))
      cur_user, cur_paper = u_idx[j], p
      return wrk.format("POST", path, h, body)
    end
  end
  logf:write("D " .. kind .. "\n")
  return nil
end

function request()
  local r = math.random() * mix_total
  local kind = kinds[#kinds]
  for i = 1, #cum do
    if r < cum[i] then kind = kinds[i]; break end
  end
  cur_user, cur_paper = -1, -1
  local req = nil
  if kind == "vote" or kind == "comment" then
    req = write_request(kind)
    if req == nil then kind = "paper_user" end  -- no user may write yet: a logged-in reader instead
  end
  if req == nil then
    local base = kind:gsub("_user$", "")
    local list = paths[base]
    local path = list[math.random(#list)]
    if base ~= kind and nusers > 0 then
      local j = math.random(nusers)
      cur_user = u_idx[j]
      req = wrk.format("GET", path, {["Cookie"] = u_cookie[j]})
    else
      kind = base
      req = wrk.format("GET", path)
    end
  end
  cur_kind = kind
  logf:write(string.format("S %s %d %d\n", kind, cur_user, cur_paper))
  cur_t0 = clock_us(1)
  return req
end

function response(status, headers, body)
  local t = clock_us(1)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  local flag = 0
  if cur_kind == "vote" and status >= 200 and status <= 299 then
    if headers["X-Refused"] then
      flag = 1  -- refused inside a 200 answer (the htmx vote fragment shows the reason)
    elseif not string.find(body, 'data-voted="true"', 1, true) then
      flag = 2  -- 2xx, but the fragment does not show the vote
    end
  end
  logf:write(string.format("R %s %d %.0f %d %d %d\n", cur_kind or "?", status, t - (cur_t0 or t),
                           cur_user or -1, cur_paper or -1, flag))
  answered = answered + 1
  if answered % 200 == 0 then logf:flush() end
  cur_kind = nil
end
"""


# --- the Django side (run as a subprocess with the app's environment: `--helper setup|cleanup`) ---------


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
    import django

    django.setup()


def helper_cleanup() -> dict:
    """Remove every bench user with its votes, comments, sessions and rate counters; counters stay exact."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.db.models import Count, F

    from paperboard.community.models import Comment
    from paperboard.papers import freshness
    from paperboard.papers.models import Paper, RateCounter, Vote

    users = get_user_model().objects.filter(username__startswith=USER_PREFIX)
    ids = set(users.values_list("pk", flat=True))
    if not ids:
        return {"users": 0, "votes": 0, "comments": 0}
    with transaction.atomic():
        votes = Vote.objects.filter(user_id__in=ids)
        for row in votes.values("paper_id").annotate(n=Count("id")):
            Paper.objects.filter(pk=row["paper_id"]).update(upvotes=F("upvotes") - row["n"])
        n_votes = votes.delete()[0]
        comments = Comment.objects.filter(user_id__in=ids)
        visible = comments.filter(deleted_at__isnull=True, hidden=False)
        for row in visible.values("paper_id").annotate(n=Count("id")):
            Paper.objects.filter(pk=row["paper_id"], num_comments__gte=row["n"]).update(
                num_comments=F("num_comments") - row["n"])
        n_comments = comments.count()
        comments.delete()
        keys = [f"{name}:u{pk}" for pk in ids for name in ("vote", "comment")]
        RateCounter.objects.filter(key__in=keys).delete()
        gone = [s.session_key for s in Session.objects.iterator()
                if str(s.get_decoded().get("_auth_user_id", "")) in {str(i) for i in ids}]
        Session.objects.filter(session_key__in=gone).delete()
        users.delete()
    freshness.changed()
    return {"users": len(ids), "votes": n_votes, "comments": n_comments}


def _search_queries(rng: random.Random, titles: list[str], authors: list[str]) -> list[str]:
    """Realistic queries: the evaluation set's descriptions, words from titles, authors, filters."""
    from paperboard.search import query as querylang
    from paperboard.search.lexical import STOPWORDS

    evalset = c.BENCH / "search_eval" / "queries.jsonl"
    out = [json.loads(line)["query"] for line in evalset.read_text().splitlines() if line.strip()]
    for title in titles:
        words = [w.strip(".,:;()[]?!\"'{}$").lower() for w in title.split()]
        words = [w for w in words if len(w) > 2 and w not in STOPWORDS and w.isascii() and w.isalpha()]
        if len(words) >= 2:
            k = rng.randint(2, min(4, len(words)))
            i = rng.randint(0, len(words) - k)
            out.append(" ".join(words[i:i + k]))
    out += [f'author:"{name}"' for name in authors]
    filters = ["cat:cs.LG", "cat:cs.CL", "cat:cs.CV", "year:2025", "after:2025-06", "has:code", "-survey"]
    out += [f"{q} {rng.choice(filters)}" for q in rng.sample(out[:len(out) // 2], min(60, len(out) // 2))]
    # a query that is an arXiv id would go to the paper page
    return [q for q in dict.fromkeys(out) if querylang.arxiv_id(q) is None]


def helper_setup(n_users: int, seed: int) -> dict:
    """Bench users with sessions and CSRF tokens, the vote targets, and the URLs the workload reads."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db.models import Max
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
    from django.utils import timezone

    from paperboard.accounts.models import Profile
    from paperboard.papers.models import Paper, PaperAuthor, Submission

    removed = helper_cleanup()
    rng = random.Random(seed)
    User = get_user_model()
    joined = timezone.now() - dt.timedelta(days=60)  # older than the trending minimum account age
    # one real argon2 hash, shared by all: hashing 500 passwords would take minutes
    password = make_password(_get_new_csrf_string())
    User.objects.bulk_create([
        User(username=f"{USER_PREFIX}{i:04d}", email=f"{USER_PREFIX}{i:04d}@bench.invalid", password=password,
             first_name="Bench", last_name=f"Reader {i}", date_joined=joined)
        for i in range(n_users)
    ])
    users = list(User.objects.filter(username__startswith=USER_PREFIX).order_by("username"))
    Profile.objects.bulk_create([Profile(user=u, email_confirmed_at=joined) for u in users])
    store = import_module(settings.SESSION_ENGINE).SessionStore
    out_users = []
    for i, u in enumerate(users):
        session = store()
        session[SESSION_KEY] = str(u.pk)  # what django.contrib.auth.login() stores
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = u.get_session_auth_hash()
        session.create()
        secret = _get_new_csrf_string()  # the csrftoken cookie; the page's token is a masked form of it
        out_users.append({"idx": i, "id": u.pk, "session": session.session_key, "csrf_secret": secret,
                          "csrf_token": _mask_cipher_secret(secret)})

    latest = Submission.objects.aggregate(m=Max("day"))["m"]
    subs = list(Submission.objects.filter(day__gt=latest - dt.timedelta(days=FEED_DAYS), paper__hidden=False)
                .select_related("paper").order_by("day", "paper_id"))
    targets = [{"arxiv_id": s.paper.arxiv_id, "pk": s.paper_id} for s in subs]
    days = sorted({s.day for s in subs}, reverse=True)
    max_pk = Paper.objects.aggregate(m=Max("pk"))["m"]
    picks = rng.sample(range(1, max_pk + 1), min(max_pk, 3 * PAPER_SAMPLE))
    sample = list(Paper.objects.filter(pk__in=picks, hidden=False).order_by("pk")
                  .values_list("pk", "arxiv_id", "title")[:PAPER_SAMPLE])
    authors = list(PaperAuthor.objects.filter(paper_id__in=[pk for pk, _, _ in sample[:80]], position=0)
                   .values_list("name", flat=True))
    authors = [a for a in authors if a.replace(" ", "").replace(".", "").replace("-", "").isalpha()][:40]
    titles = [t for _, _, t in sample[:400]] + [s.paper.title for s in subs[:100]]
    queries = _search_queries(rng, titles, authors)
    weeks = sorted({f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in days}, reverse=True)
    months = sorted({f"{d:%Y-%m}" for d in days}, reverse=True)
    q = urllib.parse.quote_plus
    return {
        "removed_before": removed,
        "users": out_users,
        "targets": targets,
        "latest_day": latest.isoformat(),
        "paths": {
            "feed": ["/papers"] * len(days) + [f"/papers/date/{d}" for d in days],
            "period": [f"/papers/week/{w}" for w in weeks] + [f"/papers/month/{m}" for m in months],
            "trending": ["/papers/trending", "/papers/trending", "/papers/trending?p=1"],
            # feed papers three times over: readers open the feed's papers more than random ones
            "paper": [f"/papers/{t['arxiv_id']}" for t in targets] * 3
            + [f"/papers/{a}" for _, a, _ in sample],
            "search": [f"/papers/search?q={q(x)}" for x in queries],
            "search_api": [f"/api/papers/search?q={q(x)}&limit=20" for x in queries],
        },
        "queries": len(queries),
    }


def helper_main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--helper", choices=("setup", "cleanup"))
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    _django()
    result = helper_setup(a.users, a.seed) if a.helper == "setup" else helper_cleanup()
    a.out.write_text(json.dumps(result))


def run_helper(what: str, env: dict, work: Path, users: int = 0, seed: int = 7) -> dict:
    out = work / f"helper_{what}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--helper", what, "--out", str(out),
           "--users", str(users), "--seed", str(seed)]
    c.run_checked(cmd, env, timeout=900)
    return json.loads(out.read_text())


# --- data ---------------------------------------------------------------------------------------------


def prepare(db: str, data_dir: Path, url: str, pg_db: str | None, corpus: str, analyze: bool,
            deadline: c.Deadline) -> dict:
    """The full corpus (http_load.prepare) or the demo data only (`--corpus demo`, for smoke tests), then
    the lexical index and, when the planner has no statistics, ANALYZE."""
    env = c.app_env(data_dir, url)
    if corpus == "full":
        prepared = hl.prepare(db, data_dir, url, pg_db, deadline)
    else:
        t = time.perf_counter()
        c.run_checked(c.paperboard_cmd("demo", "--no-serve"), env, timeout=600)
        prepared = {"reused": False, "corpus": "demo data only", "demo_s": round(time.perf_counter() - t, 1),
                    "papers": Db(db, data_dir, pg_db).query("SELECT count(*) FROM papers_paper")[0][0]}
    t = time.perf_counter()
    out = c.run_checked(c.paperboard_cmd("index", "--only", "lexical"), env,
                        timeout=max(120, deadline.left()))
    prepared["index_lexical_s"] = round(time.perf_counter() - t, 1)
    prepared["index_output"] = [ln for ln in out.splitlines() if ln.strip()][-3:]
    prepared["planner_statistics_before"] = hl.db_stats_state(db, data_dir, pg_db)
    if analyze and not prepared["planner_statistics_before"]["analyzed"]:
        prepared["analyze_s"] = hl.analyze(db, data_dir, pg_db)
    return prepared


class Db:
    """Read-only checks against the database under load (plain SQL, no Django)."""

    def __init__(self, db: str, data_dir: Path, pg_db: str | None):
        self.db, self.path, self.pg_db = db, data_dir / "paperboard.sqlite3", pg_db

    def query(self, sql: str) -> list[tuple]:
        return c.sqlite_query(self.path, sql) if self.db == "sqlite" else c.pg_query(self.pg_db, sql)

    def bench_votes(self) -> set[tuple[int, int]]:
        return set(self.query(
            "SELECT v.user_id, v.paper_id FROM papers_vote v JOIN auth_user u ON u.id = v.user_id "
            f"WHERE substr(u.username, 1, {len(USER_PREFIX)}) = '{USER_PREFIX}'"))

    def bench_comments(self) -> int:
        return self.query(
            "SELECT count(*) FROM community_comment cm JOIN auth_user u ON u.id = cm.user_id "
            f"WHERE substr(u.username, 1, {len(USER_PREFIX)}) = '{USER_PREFIX}'")[0][0]

    def counters(self, pks: list[int]) -> dict[int, tuple[int, int]]:
        """{paper pk: (upvotes - vote rows, num_comments - visible comment rows)}: constant unless a counter
        drifted from its rows."""
        ids = ",".join(str(int(pk)) for pk in pks)
        rows = self.query(
            "SELECT p.id, p.upvotes - (SELECT count(*) FROM papers_vote v WHERE v.paper_id = p.id), "
            "p.num_comments - (SELECT count(*) FROM community_comment cm WHERE cm.paper_id = p.id "
            "AND cm.deleted_at IS NULL AND cm.hidden = FALSE) "
            f"FROM papers_paper p WHERE p.id IN ({ids})")
        return {pk: (dv, dc) for pk, dv, dc in rows}


# --- the load -----------------------------------------------------------------------------------------


class Workload:
    """The files the Lua script reads, the users' write state across wrk runs, and the vote bookkeeping."""

    def __init__(self, work: Path, setup: dict, seed: int):
        self.dir = work / "mix"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.setup, self.seed = setup, seed
        self.users = setup["users"]
        self.targets = setup["targets"]
        self.state = {u["idx"]: [0, 0, 0] for u in self.users}  # votes sent, last vote / comment (epoch us)
        self.uid = {u["idx"]: u["id"] for u in self.users}
        self.sent: set[tuple[int, int]] = set()  # (user id, paper pk) of every vote request written
        self.acked: set[tuple[int, int]] = set()  # ... answered 2xx and showing the vote
        self.comments_acked = 0
        self.script = work / "mixed.lua"
        self.script.write_text(hl.LUA_COMMON + LUA_MIX)
        for kind, paths in setup["paths"].items():
            (self.dir / f"paths_{kind}.txt").write_text("\n".join(paths) + "\n")
        (self.dir / "targets.txt").write_text("\n".join(t["arxiv_id"] for t in self.targets) + "\n")
        q = urllib.parse.quote_plus
        (self.dir / "comments.txt").write_text("\n".join(q(b) for b in COMMENTS) + "\n")
        (self.dir / "mix.txt").write_text("".join(f"{k} {w}\n" for k, w in MIX.items()))

    def run(self, server: hl.Server, connections: int, duration: int, wrk_timeout: int, measured: bool,
            run_no: int, pg_db: str | None = None) -> dict:
        (self.dir / "config.txt").write_text(
            f"threads {connections}\nseed {self.seed * 1000 + run_no}\n"
            f"vote_gap_us {int(VOTE_GAP_S * 1e6)}\ncomment_gap_us {int(COMMENT_GAP_S * 1e6)}\n")
        (self.dir / "users.txt").write_text("".join(
            f"{u['idx']} {u['session']} {u['csrf_token']} {u['csrf_secret']} "
            + " ".join(map(str, self.state[u["idx"]])) + "\n"
            for u in self.users))
        for old in self.dir.glob("log_*.txt"):
            old.unlink()
        os.environ["PB_MIX_DIR"] = str(self.dir)  # the Lua script's files; wrk inherits the environment
        ns = argparse.Namespace(threads=connections, connections=connections, wrk_timeout=wrk_timeout)
        with PgBackendCpu(pg_db or "") as db_cpu:
            result = hl.run_wrk(server.base + "/papers", self.script, ns, duration, False,
                                server if measured else None)
        result["db_cpu_ms_per_request"] = (round(1000 * db_cpu.seconds() / result["requests"], 3)
                                           if pg_db and measured and result["requests"] else None)
        # wrk 4 "corrects" its latency histogram for coordinated omission (stats_correct(): phantom samples
        # at multiples of the mean interval below every slow request), which in a closed-loop mix of 10 ms
        # votes and 500 ms searches inflates p95 several-fold; the percentiles reported are those of the
        # per-request latencies the script logs, wrk's are kept beside them.
        result["wrk_latency_co_corrected"] = {k: result.pop(k) for k in
                                              ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms")}
        result.update(self.read_log())
        return result

    def read_log(self) -> dict:
        per: dict[str, dict] = {}
        lat: dict[str, list[int]] = {}
        votes = dict.fromkeys(SUM_VOTES[:-1], 0)
        comments = {"sent": 0, "acked": 0, "in_flight": 0}
        deferred = {"vote": 0, "comment": 0}
        step_acked: set[tuple[int, int]] = set()
        for log in sorted(self.dir.glob("log_*.txt")):
            pending = None
            for line in log.read_text().splitlines():
                f = line.split()
                if f[0] == "S":
                    pending = f
                    if f[1] == "vote":
                        votes["sent"] += 1
                        self.sent.add((self.uid[int(f[2])], self.targets[int(f[3])]["pk"]))
                    elif f[1] == "comment":
                        comments["sent"] += 1
                elif f[0] == "R":
                    pending = None
                    kind = f[1]
                    status, us, user, paper, flag = map(int, f[2:7])
                    d = per.setdefault(kind, {"requests": 0, "non2xx": 0, "429": 0, "5xx": 0})
                    d["requests"] += 1
                    lat.setdefault(kind, []).append(us)
                    ok = 200 <= status <= 299
                    if not ok:
                        d["non2xx"] += 1
                        d["429"] += status == 429
                        d["5xx"] += status >= 500
                    if kind == "vote":
                        if not ok:
                            votes["non2xx"] += 1
                        elif flag == 1:
                            votes["refused_in_2xx"] += 1
                        elif flag == 2:
                            votes["not_shown_in_2xx"] += 1
                        else:
                            votes["acked"] += 1
                            step_acked.add((self.uid[user], self.targets[paper]["pk"]))
                    elif kind == "comment":
                        comments["acked"] += ok
                elif f[0] == "USER":
                    self.state[int(f[1])] = [int(f[2]), int(f[3]), int(f[4])]
                elif f[0] == "D":
                    deferred[f[1]] += 1
            if pending is not None and pending[1] in ("vote", "comment"):  # sent, no answer when wrk stopped
                (votes if pending[1] == "vote" else comments)["in_flight"] += 1
            log.unlink()
        self.acked |= step_acked
        self.comments_acked += comments["acked"]
        return {**latency_summary(sorted(v for values in lat.values() for v in values)), "per_kind": per,
                "latencies_us": lat, "votes": votes, "comments": comments, "step_acked": step_acked,
                "writes_deferred": deferred}


def latency_summary(values: list[int]) -> dict:
    """p50/p90/p95/p99, mean and max (ms) of sorted latencies in microseconds."""
    out = {f"p{p}_ms": round(pct(values, p) / 1000, 2) for p in (50, 90, 95, 99)}
    out.update(answers_logged=len(values), max_ms=round(values[-1] / 1000, 2) if values else None,
               mean_ms=round(sum(values) / len(values) / 1000, 2) if values else None)
    return out


def pct(sorted_values: list[int], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[k])


class PgBackendCpu:
    """CPU seconds used by the PostgreSQL backends of one database while a run lasts: their processes
    (`postgres: <user> <db> 127.0.0.1(port) ...`) are sampled from /proc every 0.3 s on a thread, so a backend
    that ends mid-run (CONN_MAX_AGE) is counted up to its last sample. Zero where the server is elsewhere."""

    def __init__(self, dbname: str):
        import threading

        self.tag = f" {dbname} ".encode()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self, into_first: bool = False) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if not proc.joinpath("cmdline").read_bytes().startswith(b"postgres: ") or \
                        self.tag not in proc.joinpath("cmdline").read_bytes().replace(b"\0", b" "):
                    continue
                fields = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, cpu = int(proc.name), (int(fields[11]) + int(fields[12])) / tick
            if into_first:
                self.first[pid] = cpu
            self.last[pid] = cpu

    def _loop(self) -> None:
        while not self.stop.wait(0.3):
            self._sample()

    def __enter__(self):
        self._sample(into_first=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self._sample()

    def seconds(self) -> float:
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


def redis_state(url: str) -> dict:
    """Keys in the cache's Redis database (stale response-cache entries included) and the server's memory."""
    import redis

    r = redis.Redis.from_url(url)
    info = r.info("memory")
    return {"keys": r.dbsize(), "used_memory_mib": round(info["used_memory"] / 2**20, 1),
            "used_memory_peak_mib": round(info["used_memory_peak"] / 2**20, 1)}


def check_logged_in(server: hl.Server, user: dict) -> None:
    """A bench user's cookies make a logged-in request (the page names the user), or the run stops here."""
    import urllib.request

    req = urllib.request.Request(server.base + "/papers", headers={
        "Cookie": f"sessionid={user['session']}; csrftoken={user['csrf_secret']}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read().decode()
    if USER_PREFIX not in body:
        raise RuntimeError("a bench user's session cookie does not log in: the page does not name the user")


def settle(server: hl.Server, timeout: float = 60) -> float:
    """Wait until requests wrk abandoned at its stop are finished (the server's CPU stays idle)."""
    start = time.monotonic()
    quiet = 0
    last = server.cpu_seconds()
    while time.monotonic() - start < timeout and quiet < 2:
        time.sleep(0.4)
        now = server.cpu_seconds()
        quiet = quiet + 1 if now - last < 0.03 else 0
        last = now
    return round(time.monotonic() - start, 1)


def vote_check(db: Db, load: Workload, step: dict, baseline: dict) -> dict:
    """The bench users' vote rows against what the generator sent and got 2xx for."""
    rows = db.bench_votes()
    acked_step = step.pop("step_acked")
    counters = db.counters([t["pk"] for t in load.targets])
    drift = sum(1 for pk, (dv, _) in counters.items() if dv != baseline[pk][0])
    comment_drift = sum(1 for pk, (_, dcm) in counters.items() if dcm != baseline[pk][1])
    comment_rows = db.bench_comments()
    return {
        **step["votes"],
        "in_db_total": len(rows),
        "acked_total": len(load.acked),
        "lost": len(acked_step - rows),  # answered 2xx (showing the vote) but not in the database
        "lost_total": len(load.acked - rows),
        "unacked_in_db_total": len(rows - load.acked),  # sent, no answer seen (wrk stopped), stored: fine
        "never_sent_in_db": len(rows - load.sent),  # must be 0
        "papers_counter_drift": drift,  # papers whose upvotes no longer match their vote rows (must be 0)
        "comments_acked_total": load.comments_acked,
        "comments_in_db_total": comment_rows,
        "comments_lost_total": max(0, load.comments_acked - comment_rows),
        "papers_comment_counter_drift": comment_drift,
    }


# --- one configuration --------------------------------------------------------------------------------


def run_config(db: str, args, deadline: c.Deadline) -> dict:
    work = Path(tempfile.mkdtemp(prefix="pb-bench-mixed-"))
    if db == "sqlite":
        data_dir = args.data_dir.resolve() if args.data_dir else work / "data"
        keep = bool(args.data_dir)
    else:
        data_dir = work / "data"  # PostgreSQL: only static files and the mail outbox land here
        keep = bool(args.pg_db)
    data_dir.mkdir(parents=True, exist_ok=True)
    pg_db = None
    if db == "postgres":
        pg_db = args.pg_db or f"paperboard_mixed_tmp_{os.getpid()}"
        if not c.pg_exists(pg_db):
            c.pg_create(pg_db)
    url = c.pg_url(pg_db) if pg_db else ""
    env = c.app_env(data_dir, url)
    env["PAPERBOARD_SEARCH_FETCH_UNKNOWN"] = "false"  # a search never reaches arXiv (only 127.0.0.1 here)
    cache = "per-process memory (LocMemCache)"
    if db == "postgres":
        env["PAPERBOARD_CACHE_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
        cache = env["PAPERBOARD_CACHE_URL"]
        import redis

        redis.Redis.from_url(env["PAPERBOARD_CACHE_URL"]).flushdb()  # our own db number only
    server = None
    set_up = False
    result: dict = {}
    try:
        prepared = prepare(db, data_dir, url, pg_db, args.corpus, not args.no_analyze, deadline)
        t = time.perf_counter()
        setup = run_helper("setup", env, work, args.users, args.seed)
        set_up = True
        prepared["bench_users_s"] = round(time.perf_counter() - t, 1)
        print(f"[{db}] {len(setup['users'])} bench users, {len(setup['targets'])} feed papers to vote on, "
              f"{setup['queries']} search queries, latest day {setup['latest_day']}", flush=True)
        checker = Db(db, data_dir, pg_db)
        load = Workload(work, setup, args.seed)
        baseline = checker.counters([t["pk"] for t in load.targets])
        server = hl.Server(env, c.free_port(), args.workers, work / "server.log")
        server.wait_ready()
        check_logged_in(server, setup["users"][0])
        if args.global_warmup:
            load.run(server, min(8, max(args.steps)), args.global_warmup, args.wrk_timeout, False, 1)
        steps = []
        for i, conns in enumerate(args.steps):
            deadline.check(f"{db} step c={conns}")
            if args.warmup:
                load.run(server, conns, args.warmup, args.wrk_timeout, False, 100 * i)
            runs = []
            for rep in range(args.repeat):
                settle(server)
                r = load.run(server, conns, args.duration, args.wrk_timeout, True, 100 * i + rep + 1, pg_db)
                r["settle_s"] = settle(server)
                r["votes"] = vote_check(checker, load, r, baseline)
                runs.append(r)
            step = summarize_step(conns, runs)
            if db == "postgres":
                step["redis"] = redis_state(env["PAPERBOARD_CACHE_URL"])
            steps.append(step)
            v = step["votes"]
            print(f"[{db}] c={conns:<3} {step['rps']:7.1f} req/s  p50 {step['p50_ms']:7.1f}  "
                  f"p95 {step['p95_ms']:7.1f}  p99 {step['p99_ms']:7.1f} ms  errors {step['errors_total']} "
                  f"({step['error_rate_pct']}%; 429 {step['status_429']}, 5xx {step['status_5xx']}, socket "
                  f"{step['socket_errors_total']})  votes sent {v['sent']} 2xx {v['acked']} lost {v['lost']} "
                  f"(total lost {v['lost_total']}, drift "
                  f"{v['papers_counter_drift']})  CPU {step['server_cpu_ms_per_request']} + db "
                  f"{step['db_cpu_ms_per_request']} ms/req  load {step['loadavg_1m_after']}", flush=True)
        log_text = server.log.read_text()
        result = {
            "measured_at": c.machine_facts()["date"],
            "git_commit": c.machine_facts()["git_commit"],
            "prepared": prepared,
            "cache": cache,
            "users": len(setup["users"]),
            "feed_papers_voted_on": len(setup["targets"]),
            "search_queries": setup["queries"],
            "latest_day": setup["latest_day"],
            "steps": steps,
            "knee": knee(steps),
            "lost_votes_total": len(load.acked - checker.bench_votes()),
            "server_log": {
                "tracebacks": log_text.count("Traceback"),
                "database_locked": log_text.count("database is locked"),
                "error_lines": sum(" ERROR " in ln or ln.startswith("ERROR") for ln in log_text.splitlines()),
                "tail": log_text[-3000:],
            },
            "rss_mib": server.rss_mib(),
        }
    finally:
        if server is not None:
            server.stop()
        if set_up and keep:
            try:
                result["cleanup"] = run_helper("cleanup", env, work)
            except SystemExit as exc:  # report, do not hide the measurements
                print(f"warning: bench users not removed: {exc}", file=sys.stderr)
        if db == "postgres" and not keep:
            c.pg_drop(pg_db)
        if db == "postgres":
            import redis

            redis.Redis.from_url(env["PAPERBOARD_CACHE_URL"]).flushdb()
        if os.environ.get("PB_MIX_KEEP_WORK"):
            print(f"kept {work}", file=sys.stderr)
        else:
            c.rmtree_quiet(work)  # the temporary data dir too, unless --data-dir was given (kept)
    return result


MEDIAN_KEYS = ("rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms", "server_cpu_ms_per_request",
               "db_cpu_ms_per_request", "machine_busy_pct")
RUN_KEYS = ("requests", "rps", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "socket_errors_total", "non2xx",
            "server_cpu_ms_per_request", "db_cpu_ms_per_request", "machine_busy_pct", "loadavg_1m_before",
            "loadavg_1m_after", "settle_s", "answers_logged", "wrk_latency_co_corrected", "writes_deferred")
SUM_VOTES = ("sent", "acked", "refused_in_2xx", "not_shown_in_2xx", "non2xx", "in_flight", "lost")


def summarize_step(conns: int, runs: list[dict]) -> dict:
    """One step from its repeated runs: medians of throughput, latency percentiles and CPU; sums of requests,
    errors and votes; per-kind figures over the answers of all runs pooled; the vote totals after the last."""
    step: dict = {"connections": conns, "runs": len(runs)}
    for k in MEDIAN_KEYS:
        value = c.median([r.get(k) for r in runs])
        digits = 3 if k.endswith("per_request") else 1 if k in ("rps", "machine_busy_pct") else 2
        step[k] = round(value, digits) if value is not None else None
    for k in ("requests", "socket_errors_total", "non2xx"):
        step[k] = sum(r[k] for r in runs)
    step["votes"] = {**runs[-1]["votes"], **{k: sum(r["votes"][k] for r in runs) for k in SUM_VOTES}}
    step["comments"] = {k: sum(r["comments"][k] for r in runs) for k in ("sent", "acked", "in_flight")}
    step["writes_deferred"] = {k: sum(r["writes_deferred"][k] for r in runs) for k in ("vote", "comment")}
    per: dict[str, dict] = {}
    for kind in MIX:
        values = sorted(v for r in runs for v in r["latencies_us"].get(kind, []))
        if values:
            counts = [r["per_kind"][kind] for r in runs if kind in r["per_kind"]]
            per[kind] = {k: sum(x[k] for x in counts) for k in ("requests", "non2xx", "429", "5xx")}
            per[kind].update({f"p{p}_ms": round(pct(values, p) / 1000, 2) for p in (50, 95, 99)})
    step["per_kind"] = per
    step["status_429"] = sum(d["429"] for d in per.values())
    step["status_5xx"] = sum(d["5xx"] for d in per.values())
    errors = (step["socket_errors_total"] + step["non2xx"] + step["votes"]["refused_in_2xx"]
              + step["votes"]["not_shown_in_2xx"])
    step["errors_total"] = errors
    step["error_rate_pct"] = round(100 * errors / max(1, step["requests"]), 3)
    step["loadavg_1m_before"] = runs[0]["loadavg_1m_before"]
    step["loadavg_1m_after"] = runs[-1]["loadavg_1m_after"]
    step["run_details"] = [
        {k: r.get(k) for k in RUN_KEYS}
        | {"votes": {k: r["votes"][k] for k in SUM_VOTES}}
        for r in runs
    ]
    return step


def knee(steps: list[dict]) -> dict:
    """The first step after which the next one adds < KNEE_GROWTH throughput while its p95 is higher."""
    s = sorted(steps, key=lambda r: r["connections"])
    best = max(s, key=lambda r: r["rps"]) if s else None
    for a, b in itertools.pairwise(s):
        growth = b["rps"] / a["rps"] - 1 if a["rps"] else 0.0
        if growth < KNEE_GROWTH and b["p95_ms"] > a["p95_ms"]:
            return {"connections": a["connections"], "rps": a["rps"], "p95_ms": a["p95_ms"],
                    "next_connections": b["connections"], "next_growth_pct": round(100 * growth, 1),
                    "next_p95_ms": b["p95_ms"], "max_rps": best["rps"],
                    "max_rps_connections": best["connections"]}
    return {"connections": None, "max_rps": best["rps"] if best else None,
            "max_rps_connections": best["connections"] if best else None}


# --- report -------------------------------------------------------------------------------------------

KNEE_TEXT = (f"the knee is the first step after which going to the next step raises throughput by less than "
             f"{KNEE_GROWTH:.0%} while p95 rises")
LABELS = {"sqlite": "(a) 2 workers on SQLite", "postgres": "(b) 2 workers on PostgreSQL + Redis"}


def markdown(data: dict) -> str:
    mix = data["mix"]
    share = {g: sum(mix[k] for k in kinds) for g, kinds in GROUPS.items()}
    lines = [
        *c.report_head("Mixed workload at rising concurrency", data),
        f"- load generator: {data['tool']['version']}; per step a {data['tool']['warmup_s']} s warm-up at "
        f"that concurrency, then {data['tool']['repeat']} measured runs of `{data['tool']['settings']}` (one "
        "connection per wrk thread); throughput, p50/p95/p99 and CPU are medians of the runs, counts are "
        "sums, per-kind latency pools the answers of all runs. wrk runs on the same machine as the server "
        "and competes with it for the CPUs.",
        f"- mix (share of requests): pages {share['pages']:.0f} % (half anonymous, half logged in: daily "
        "feed and its days, weeks and months, trending, paper pages of the feed's and of random corpus "
        "papers), "
        f"search {share['search']:.0f} % (`/papers/search?q=` anonymous and logged in, "
        "`/api/papers/search?q=&limit=20`), "
        f"writes {share['writes']:.0f} % by logged-in bench users (upvotes {mix['vote']} %, comments "
        f"{mix['comment']} %, htmx form posts with session cookie and CSRF token). Exact shares: `mix` in "
        "the JSON.",
        "- server: `paperboard serve --workers 2` (gunicorn gthread, 4 threads per worker) on 127.0.0.1; "
        "search is lexical (no embeddings are built, so hybrid search answers from the keyword index).",
        "- latency: p50/p95/p99 of every answer of the step, timed by the Lua script from `request()` to "
        "`response()` (one connection per thread, so exactly that request's time). wrk's own percentiles "
        "(`wrk_latency_co_corrected` in the JSON) are not used: wrk 4 adds phantom samples for coordinated "
        "omission before `done()`, which in this closed-loop mix of fast and slow requests inflates p95 "
        "several-fold "
        "(its mean latency came out above connections / throughput).",
        "- CPU ms/req: user + system CPU of the gunicorn master and workers per answer (SQLite runs inside "
        "them), "
        "plus, for PostgreSQL, of that database's backend processes (sampled from /proc).",
        "- errors: socket errors + non-2xx answers + votes refused inside a 2xx answer. Lost votes: upvotes "
        "answered 2xx (the fragment showing the vote) whose row is not in the database after the step; "
        "counter drift: feed papers whose `upvotes` no longer equals their vote rows plus what they had "
        "before.",
        f"- {KNEE_TEXT}.",
        "",
    ]
    for db in ("sqlite", "postgres"):
        d = data["databases"].get(db)
        if not d:
            continue
        p = d["prepared"]
        prep = ("reused a prepared database" if p.get("reused") else
                f"prepared in {p['import_s']} s import + {p['demo_s']} s demo" if "import_s" in p else
                f"prepared in {p.get('demo_s')} s (demo data)")
        lines += [
            f"## {LABELS[db]}",
            "",
            f"Measured {d['measured_at']} at commit {d['git_commit']}; {p.get('papers', 0):,} papers "
            f"({p.get('corpus', 'full corpus')}), {d['feed_papers_voted_on']} feed papers voted on, "
            f"{d['users']} "
            f"bench users, {d['search_queries']} search queries; {prep}; lexical index step "
            f"{p.get('index_lexical_s')} s" + (f"; ANALYZE {p['analyze_s']} s" if "analyze_s" in p else "")
            + f". Cache: {d['cache']}.",
            "",
            "| connections | requests | req/s | p50 ms | p95 ms | p99 ms | errors (rate) "
            "| 429 / 5xx / socket | votes sent / 2xx / lost | counter drift | comments 2xx "
            "| CPU ms/req: server + db | machine busy | load avg 1 min (before → after) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in d["steps"]:
            v = r["votes"]
            lines.append(
                f"| {r['connections']} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50_ms']} | "
                f"{r['p95_ms']} | {r['p99_ms']} | "
                f"{r['errors_total']} ({r['error_rate_pct']} %) | {r['status_429']} / {r['status_5xx']} / "
                f"{r['socket_errors_total']} | {v['sent']} / {v['acked']} / **{v['lost']}** | "
                f"{v['papers_counter_drift']} | {r['comments']['acked']} | {r['server_cpu_ms_per_request']}"
                + (f" + {r['db_cpu_ms_per_request']}" if r.get("db_cpu_ms_per_request") is not None else "")
                + " | "
                f"{r['machine_busy_pct']} % | {r['loadavg_1m_before']} → {r['loadavg_1m_after']} |")
        k = d["knee"]
        if k.get("connections"):
            plural = "" if k["connections"] == 1 else "s"
            lines += ["", f"**Knee: {k['connections']} connection{plural}** ({k['rps']:,.0f} req/s, p95 "
                      f"{k['p95_ms']} ms): at {k['next_connections']} connections throughput changes by "
                      f"{k['next_growth_pct']:+} % while "
                      f"p95 rises to {k['next_p95_ms']} ms. Highest throughput: {k['max_rps']:,.0f} req/s at "
                      f"{k['max_rps_connections']} connections."]
        else:
            lines += ["", f"No knee within these steps. Highest throughput: {k['max_rps']} req/s at "
                      f"{k['max_rps_connections']} connections."]
        last = d["steps"][-1]["votes"] if d["steps"] else {}
        if d["steps"] and d["steps"][-1].get("redis"):
            states = ", ".join(f"c={r['connections']} {r['redis']['keys']:,} / "
                               f"{r['redis']['used_memory_mib']}" for r in d["steps"])
            lines += ["", "Redis (the cache's database) after each step, keys / MiB used by the server: "
                      f"{states}. Each vote or comment bumps the data version that keys the response cache, "
                      "so it strands the anonymous answers cached so far until their 10-minute expiry."]
        lines += [
            "",
            f"Votes over the whole run (warm-ups included): {last.get('acked_total')} answered 2xx, "
            f"{last.get('in_db_total')} rows in the database, **lost {d['lost_votes_total']}**, stored "
            "without an "
            f"answer seen (in flight when wrk stopped) {last.get('unacked_in_db_total')}, rows never sent "
            f"{last.get('never_sent_in_db')}. Comments: {last.get('comments_acked_total')} answered 2xx, "
            f"{last.get('comments_in_db_total')} in the database. Server log: "
            f"{d['server_log']['tracebacks']} "
            f"tracebacks, {d['server_log']['database_locked']} \"database is locked\".",
            "",
            "p95 latency (ms) per request kind and step (requests in the step in brackets):",
            "",
            "| kind | " + " | ".join(f"c={r['connections']}" for r in d["steps"]) + " |",
            "|---|" + "---|" * len(d["steps"]),
        ]
        for kind in MIX:
            cells = []
            for r in d["steps"]:
                x = r["per_kind"].get(kind)
                cells.append(f"{x['p95_ms']} ({x['requests']})" if x else "-")
            lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        lines.append("")
    if data.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in data["notes"]] + [""]
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------------


def main() -> None:
    if "--helper" in sys.argv:
        helper_main(sys.argv[1:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--data-dir", type=Path, help="SQLite: data dir to reuse if loaded (else load it); kept")
    ap.add_argument("--pg-db", help="PostgreSQL: database to reuse if loaded (else load it); kept")
    ap.add_argument("--redis-db", type=int, default=11, help="Redis database number for the PostgreSQL run's "
                                                             "cache; flushed before and after (default 11)")
    ap.add_argument("--steps", default=DEFAULT_STEPS, help=f"connections per step (default {DEFAULT_STEPS})")
    ap.add_argument("--duration", type=int, default=15, help="seconds per measured run (default 15)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="measured runs per step, medians reported (default 3)")
    ap.add_argument("--warmup", type=int, default=5, help="seconds of warm-up before each step (default 5)")
    ap.add_argument("--global-warmup", type=int, default=10, help="seconds of warm-up before the first step")
    ap.add_argument("--users", type=int, default=500, help="bench users (default 500)")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    ap.add_argument("--wrk-timeout", type=int, default=10,
                    help="wrk per-request timeout in seconds (default 10)")
    ap.add_argument("--corpus", choices=("full", "demo"), default="full",
                    help="full: the 275k-paper corpus + demo community; demo: the demo data only "
                         "(smoke tests)")
    ap.add_argument("--no-analyze", action="store_true",
                    help="never run ANALYZE (default: when the planner has no statistics)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--results", default=NAME, help=f"results file name under bench/results (default {NAME})")
    ap.add_argument("--budget", type=int, default=5400, help="overall time budget in seconds (default 5400)")
    args = ap.parse_args()
    args.steps = [int(x) for x in args.steps.split(",") if x.strip()]
    try:
        import django  # noqa: F401
        import paperboard  # noqa: F401
    except ImportError:
        sys.exit("run this with the project's virtualenv: .venv/bin/python bench/mixed_load.py "
                 "(make install)")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed. Install it with:  sudo apt-get update && sudo apt-get install -y wrk")
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    deadline = c.Deadline(args.budget)
    started = time.monotonic()
    machine = c.machine_facts()
    results = {}
    for db in dbs:
        t = time.monotonic()
        results[db] = run_config(db, args, deadline)
        results[db]["wall_s"] = round(time.monotonic() - t, 1)
    data = c.results_of_this_run(
        NAME,
        file=args.results,
        machine=machine,
        tool={
            "name": "wrk",
            "version": hl.wrk_version(),
            "settings": f"wrk -t<connections> -c<connections> -d{args.duration}s "
                        f"--timeout={args.wrk_timeout}s "
                        "-s <mixed.lua>",
            "warmup_s": args.warmup,
            "repeat": args.repeat,
            "global_warmup_s": args.global_warmup,
            "steps": args.steps,
        },
        mix=MIX,
        knee_definition=KNEE_TEXT,
        rate_limit_spacing={"vote_gap_s": VOTE_GAP_S, "comment_gap_s": COMMENT_GAP_S},
        wall_s=round(time.monotonic() - started, 1),
    )
    for db, r in results.items():
        data["databases"][db] = r
    c.write_results(args.results, data, markdown(data))
    for db, r in results.items():
        print(f"{db}: knee {r['knee']}; lost votes {r['lost_votes_total']}; {r['wall_s']} s")


if __name__ == "__main__":
    main()
