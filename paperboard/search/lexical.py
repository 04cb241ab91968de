"""The lexical (word) index: SQLite FTS5 or PostgreSQL full text search over title, authors and abstract.

    search(query, limit) -> list[Hit]         ranked matches of a parsed `Query`, filters applied
    filter_ids(query, ids) -> set[int]        which of these papers pass the query's filters (hybrid)
    highlights(query, ids) -> {id: Snippet}   the title and an abstract excerpt with <mark>ed matches
    sync(cur, ids, run=store)                 called by the importer inside each batch's transaction
    LexicalIndexer                            pending / run / rebuild, for `paperboard index`

Ranking. SQLite: `bm25(search_fts, 10, 4, 1)` (title, authors, abstract), computed for searches without
filters from the compact postings of `postings.py` (the same scores to the last bit, without FTS5's cost
per matching row), by FTS5 itself otherwise. PostgreSQL: `ts_rank_cd` with
weights A (title) 1.0, B (authors) 0.4, C (abstract) 0.1 — the same 10 : 4 : 1. A word in a title says
far more about a paper than the same word in a 200-word abstract (the title is the author's own
ten-word summary); authors sit between, so a name search ranks a paper by that author above one that
cites them. Ties (and only ties) go to more upvotes, then the newer paper.

User text never reaches FTS5 MATCH or tsquery syntax unescaped: FTS5 gets every word and phrase as a
double-quoted string (quotes doubled); PostgreSQL gets them as parameters of plainto_tsquery /
phraseto_tsquery. Hidden papers never match: every query joins papers_paper and checks `hidden`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from paperboard.search import postings
from paperboard.search.hits import Hit
from paperboard.search.query import Query, canonical_category

log = logging.getLogger(__name__)

FTS = "search_fts"
DOC = "search_lexicaldoc"
P = "papers_paper"

# Field weights, title : authors : abstract (see the module docstring).
WEIGHTS = (10.0, 4.0, 1.0)
PG_WEIGHTS = "{0.0, 0.1, 0.4, 1.0}"  # ts_rank_cd order: D, C (abstract), B (authors), A (title)
PG_CONFIG = "english"
PG_NORMALIZATION = 1  # ts_rank_cd: divide by 1 + log(document length), as BM25 discounts long documents

SORTS = ("relevance", "newest", "upvotes")

# An import run (one `Store`) indexes its first INLINE_SYNC_LIMIT new papers in the same transaction
# that writes them; beyond that, new papers are left pending for `paperboard index`, so a bulk import
# keeps its speed (tokenising ~1.5 kB of text per paper costs about as much as the import itself).
# Papers already in the index whose text changed are always re-indexed at once, so search never
# shows stale text. Small imports, harvests, submissions and the demo data are indexed at once.
INLINE_SYNC_LIMIT = 4000  # > the 3,092 papers of the demo data, which are indexed at once
_inline_used: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

# Natural-language queries ("how do robots learn to grasp from a few demonstrations") rarely have every
# word in one abstract, so a strict search (every word) often finds little. When it finds fewer than
# asked, the rest of the page comes from a *relaxed* search: any of the query's selective words, ranked
# by the same BM25, so a paper with more of the rare words ranks higher. Stop words are left out, and the
# words are taken rarest first while their postings (documents containing them) add up to at most
# ANY_POSTINGS: rare words carry the meaning (high IDF), and the bound keeps a relaxed search as cheap
# as a strict one at any corpus size. Strict matches always rank above relaxed ones.
ANY_POSTINGS = None  # None: settings.PAPERBOARD_SEARCH_RELAXED_POSTINGS (20,000 by default)
# BM25 costs ~1.3 µs per matching paper in FTS5 ("language model" matches 101k papers here: 127 ms). A
# strict search ranks at most the MATCH_DEPTH most recently added matching papers (rowid order), which
# bounds its cost at any corpus size; a query matching fewer papers is unaffected. (SQLite, no filters.)
MATCH_DEPTH = 10_000
ANY_MAX_WORDS = 12
# Document counts of words, counted up to ANY_POSTINGS + 1, are kept per process for COUNT_TTL seconds
# (at most COUNT_CACHE_SIZE words): common words recur in most queries and cost the most to count, and a
# count a few minutes old picks the same words.
COUNT_TTL = 600.0
COUNT_CACHE_SIZE = 20_000
_counts: dict[tuple[str, str], tuple[float, int]] = {}
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor not now
    of off on once only or other our ours out over own same she should so some such than that the their
    them then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your via using use used based new towards toward paper
    approach method methods study""".split()
)

# Highlight markers: private-use characters, replaced by <mark> after the text is HTML-escaped.
OPEN, CLOSE = "\ue000", "\ue001"
SNIPPET_TOKENS = 36


def vendor() -> str:
    return connection.vendor


# ---- Keeping the index in step ----------------------------------------------------------------------------


def _id_param(ids: list[int]):
    """The ids as ONE statement parameter: a JSON array (SQLite `json_each`) or an array (PostgreSQL ANY)."""
    return json.dumps([int(i) for i in ids]) if vendor() == "sqlite" else [int(i) for i in ids]


def _ids_sql(column: str) -> str:
    if vendor() == "sqlite":
        return f"{column} IN (SELECT value FROM json_each(%s))"
    return f"{column} = ANY(%s)"


def index_papers(cur, ids: list[int]) -> None:
    """(Re-)index these papers from papers_paper / papers_paperauthor: a fixed number of statements."""
    if not ids:
        return
    param = _id_param(ids)
    if vendor() == "sqlite":
        cur.execute(f"DELETE FROM {FTS} WHERE {_ids_sql('rowid')}", [param])
        cur.execute(
            f"INSERT INTO {FTS} (rowid, title, authors, abstract) "
            "SELECT p.id, p.title, coalesce((SELECT group_concat(name, ', ') FROM "
            "(SELECT a.name FROM papers_paperauthor a WHERE a.paper_id = p.id ORDER BY a.position)), ''), "
            f"p.abstract FROM {P} p WHERE {_ids_sql('p.id')}",
            [param],
        )
        cur.execute(
            f"INSERT INTO {DOC} (paper_id, content_hash, modified) "
            f"SELECT p.id, p.content_hash, p.modified FROM {P} p WHERE {_ids_sql('p.id')} "
            "ON CONFLICT (paper_id) DO UPDATE SET content_hash = excluded.content_hash, modified = excluded.modified",
            [param],
        )
        postings.record(cur, param)  # the compact postings learn of it (postings.py)
    else:
        cur.execute(
            f"INSERT INTO {DOC} (paper_id, content_hash, modified, document) "
            f"SELECT p.id, p.content_hash, p.modified, "
            f"setweight(to_tsvector('{PG_CONFIG}', p.title), 'A') || "
            f"setweight(to_tsvector('{PG_CONFIG}', coalesce(a.names, '')), 'B') || "
            f"setweight(to_tsvector('{PG_CONFIG}', p.abstract), 'C') "
            f"FROM {P} p LEFT JOIN LATERAL (SELECT string_agg(x.name, ', ' ORDER BY x.position) AS names "
            "FROM papers_paperauthor x WHERE x.paper_id = p.id) a ON true "
            f"WHERE {_ids_sql('p.id')} "
            "ON CONFLICT (paper_id) DO UPDATE SET content_hash = EXCLUDED.content_hash, "
            "modified = EXCLUDED.modified, document = EXCLUDED.document",
            [param],
        )


def sync(cur, paper_ids: list[int], run: object | None = None) -> None:
    """Bring the index in step with papers just inserted or changed, inside the caller's transaction.

    `run` is the import run (the `Store`): within one run the first INLINE_SYNC_LIMIT papers are indexed
    here; after that only papers that are already in the index (their text changed) are, and new ones
    stay pending for `paperboard index`. Without `run`, everything is indexed now.
    """
    if not paper_ids:
        return
    ids = list(paper_ids)
    if run is not None:
        used = _inline_used.get(run, 0)
        room = max(0, INLINE_SYNC_LIMIT - used)
        now, later = ids[:room], ids[room:]
        _inline_used[run] = used + len(now)
        if later:  # over the budget: refresh only papers that are in the index already
            cur.execute(f"SELECT paper_id FROM {DOC} WHERE {_ids_sql('paper_id')}", [_id_param(later)])
            indexed = {row[0] for row in cur.fetchall()}
            now += [i for i in later if i in indexed]
        ids = now
    index_papers(cur, ids)


def _pending_sql(limit: bool) -> str:
    stale = "d.paper_id IS NULL OR d.content_hash <> p.content_hash OR d.modified <> p.modified"
    sql = f"SELECT p.id FROM {P} p LEFT JOIN {DOC} d ON d.paper_id = p.id WHERE ({stale})"
    if limit:
        sql += " AND p.id > %s ORDER BY p.id LIMIT %s"
    return sql


class LexicalIndexer:
    """`paperboard index` for the lexical index. Resumable: each batch commits with its bookkeeping rows,
    so a run that stops (Ctrl-C, a crash) resumes with the papers still pending."""

    name = "lexical"

    def pending(self) -> int:
        """Papers to (re)index; when there are none, the papers the compact postings (SQLite) are behind
        by, if `run` would rebuild them (see postings.stale)."""
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM ({_pending_sql(False)}) x")
            return int(cur.fetchone()[0]) or postings.stale()

    def run(self, batch_size: int = 1000, progress: Callable[[int], None] | None = None) -> int:
        """Index every pending paper, `batch_size` per transaction; `progress(n)` after each batch with the
        number indexed so far in this run. Returns how many were indexed."""
        batch_size = max(1, int(batch_size))
        self.remove_orphans()
        done, last = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(_pending_sql(True), [last, batch_size])
                ids = [row[0] for row in cur.fetchall()]
                if not ids:
                    break
                index_papers(cur, ids)
            done += len(ids)
            last = ids[-1]
            if progress is not None:
                progress(done)
        if done >= 10_000:
            self.optimize()
        if postings.stale():  # missing, or over REBUILD_AT papers behind: write them afresh (~20 s at 275k)
            written = postings.rebuild_files(tick=(lambda: progress(done)) if progress is not None else None)
            if not done and written:
                done = written["papers"]
                if progress is not None:
                    progress(done)
        else:
            postings.prune_log()
        return done

    def rebuild(self) -> None:
        """Empty the index; the next run() indexes every paper again."""
        with transaction.atomic(), connection.cursor() as cur:
            if vendor() == "sqlite":
                # Dropping is instant; deleting from FTS5 row by row re-reads every document.
                cur.execute(f"DROP TABLE IF EXISTS {FTS}")
                cur.execute(SQLITE_FTS_DDL)
                cur.execute(f"DELETE FROM {DOC}")
                postings.reset(cur)  # a new epoch: postings of the old index are never used again
            else:
                cur.execute(f"TRUNCATE {DOC}")

    def remove_orphans(self) -> int:
        """Drop index entries of papers that no longer exist."""
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {DOC} WHERE paper_id NOT IN (SELECT id FROM {P})")
            removed = cur.rowcount or 0
            if vendor() == "sqlite":
                cur.execute(f"SELECT rowid FROM {FTS} WHERE rowid NOT IN (SELECT paper_id FROM {DOC})")
                gone = [row[0] for row in cur.fetchall()]
                if gone:
                    cur.execute(f"DELETE FROM {FTS} WHERE {_ids_sql('rowid')}", [_id_param(gone)])
                    postings.record(cur, _id_param(gone))
        return removed

    def optimize(self) -> None:
        """Merge the index's segments (SQLite) / refresh planner statistics (PostgreSQL) after a big run."""
        with connection.cursor() as cur:
            if vendor() == "sqlite":
                cur.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('optimize')")
            else:
                cur.execute(f"ANALYZE {DOC}")

    def indexed(self) -> int:
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {DOC} d JOIN {P} p ON p.id = d.paper_id")
            return int(cur.fetchone()[0])


SQLITE_FTS_DDL = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5("
    "title, authors, abstract, tokenize = 'porter unicode61 remove_diacritics 2')"
)


# ---- Building the match ----------------------------------------------------------------------------------


def has_token(value: str) -> bool:
    return any(ch.isalnum() for ch in value)


def _fts_quote(value: str) -> str:
    """One FTS5 string (a phrase of the tokens in `value`); the only special character inside is `"`."""
    return '"' + value.replace('"', '""') + '"'


_PREFIX_WORD = re.compile(r"^\w{3,}$")


def fts_match(q: Query, *, prefix: bool = False, negative: bool = True, any_words=None) -> str | None:
    """The FTS5 MATCH expression for q's words and phrases (AND), minus its exclusions; None when q has
    no word to match. With `prefix`, the last word also matches longer words (search as you type).
    With `any_words`, those words are alternatives (OR) in place of q's words; phrases stay required."""
    if any_words:
        parts = ["(" + " OR ".join(_fts_quote(t) for t in any_words) + ")"]
    elif prefix:
        parts = [_fts_quote(t) for t in q.terms if has_token(t)]
        if parts and _PREFIX_WORD.match(q.terms[-1]):
            parts[-1] += "*"
    else:
        parts = [_fts_quote(t) for t in content_words(q)]
    parts += [_fts_quote(p) for p in q.phrases if has_token(p)]
    if not parts:
        return None
    expr = " AND ".join(parts)
    excluded = [_fts_quote(e) for e in q.excluded if has_token(e)]
    if negative and excluded:
        expr = f"({expr}) NOT ({' OR '.join(excluded)})"
    return expr


def _fts_negative(q: Query) -> str | None:
    excluded = [_fts_quote(e) for e in q.excluded if has_token(e)]
    return " OR ".join(excluded) if excluded else None


def _pg_tsquery(q: Query, *, prefix: bool = False, any_words=None) -> tuple[str, list] | None:
    """SQL for q's tsquery (words AND phrases) and its parameters; None when q has no words. With
    `any_words`, those words are alternatives (OR) in place of q's words."""
    sql, params = [], []
    if any_words:
        sql.append("(" + " || ".join(f"plainto_tsquery('{PG_CONFIG}', %s)" for _ in any_words) + ")")
        params += list(any_words)
    terms = [] if any_words else [t for t in q.terms if has_token(t)] if prefix else content_words(q)
    for i, t in enumerate(terms):
        if prefix and i == len(terms) - 1 and _PREFIX_WORD.match(t):
            sql.append(f"to_tsquery('{PG_CONFIG}', %s)")
            params.append(f"{t}:*")
        else:
            sql.append(f"plainto_tsquery('{PG_CONFIG}', %s)")
            params.append(t)
    for p in q.phrases:
        if has_token(p):
            sql.append(f"phraseto_tsquery('{PG_CONFIG}', %s)")
            params.append(p)
    if not sql:
        return None
    return "(" + " && ".join(sql) + ")", params


def _pg_negative(q: Query) -> tuple[str, list] | None:
    excluded = [e for e in q.excluded if has_token(e)]
    if not excluded:
        return None
    return "(" + " || ".join(f"phraseto_tsquery('{PG_CONFIG}', %s)" for _ in excluded) + ")", excluded


def _day_start(d: dt.date):
    return connection.ops.adapt_datetimefield_value(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC))


def _like(value: str) -> str:
    return "%" + value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filters(q: Query) -> tuple[list[str], list]:
    """WHERE clauses on `p` (papers_paper) for q's filters, and their parameters."""
    where, params = ["NOT p.hidden"], []
    if q.after:
        where.append("p.published_at >= %s")
        params.append(_day_start(q.after))
    if q.before:
        where.append("p.published_at < %s")
        params.append(_day_start(q.before + dt.timedelta(days=1)))
    if q.has_code:
        where.append("p.github_repo <> ''")
    if q.categories:
        # Exact codes (as typed, and arXiv's spelling: `cat:cs.lg` is cs.LG) so the code index is used.
        ors = []
        for code in q.categories:
            spellings = list(dict.fromkeys((code, canonical_category(code))))
            ors.append("c.code IN (" + ", ".join(["%s"] * len(spellings)) + ")")
            params += spellings
            if "." not in code:  # a whole archive: `cs` is cs.*
                for archive in spellings:
                    ors.append("c.code LIKE %s")
                    params.append(f"{archive}.%")
        where.append(
            "EXISTS (SELECT 1 FROM papers_papercategory c WHERE c.paper_id = p.id AND (" + " OR ".join(ors) + "))"
        )
    for author in q.authors:
        words = author.split()
        likes = " AND ".join("lower(a.name) LIKE %s ESCAPE '\\'" for _ in words)
        where.append(f"EXISTS (SELECT 1 FROM papers_paperauthor a WHERE a.paper_id = p.id AND {likes})")
        params += [_like(w) for w in words]
    return where, params


def _order(sort: str, score: str | None) -> str:
    recency = "p.published_at DESC NULLS LAST, p.id DESC"
    if sort == "newest":
        return f"{recency}" + (f", {score}" if score else "")
    if sort == "upvotes":
        return "p.upvotes DESC, " + (f"{score}, " if score else "") + recency
    if score:
        return f"{score}, p.upvotes DESC, {recency}"
    return recency


# ---- Searching -------------------------------------------------------------------------------------------


def search(
    query: Query, limit: int, *, sort: str = "relevance", offset: int = 0, prefix: bool = False
) -> list[Hit]:
    """Papers matching every word and phrase of `query` and none of its exclusions, with its filters,
    best first (`sort`: relevance, newest or upvotes). A query with filters but no words lists the
    matching papers newest first. `prefix`: the last word matches as a prefix (search as you type)."""
    limit, offset = max(0, int(limit)), max(0, int(offset))
    if limit == 0 or query.is_empty or query.impossible:
        return []
    if sort not in SORTS:
        sort = "relevance"
    if query.arxiv_id:
        return _by_arxiv_id(query.arxiv_id)
    try:
        with postings.pinned():
            rows = [] if _surely_empty(query, sort, prefix) else _search(query, limit, offset, sort, prefix)
            if sort == "relevance" and not prefix and len(rows) < limit:
                rows = _relaxed(query, rows, limit, offset)
    except Exception as exc:  # noqa: BLE001 - a search must never turn into an error page
        if not _is_query_error(exc):
            raise
        log.warning("lexical search failed for %r: %s", query.raw, exc)
        return []
    return [Hit(int(pid), float(score or 0.0), "lexical") for pid, score in rows]


def _search(q: Query, limit: int, offset: int, sort: str, prefix: bool, any_words=None) -> list[tuple]:
    if vendor() == "sqlite":
        return _search_sqlite(q, limit, offset, sort, prefix, any_words)
    return _search_postgres(q, limit, offset, sort, prefix, any_words)


def _surely_empty(q: Query, sort: str, prefix: bool) -> bool:
    """A long relevance query one of whose words no paper has: the strict search is empty, and skipping
    it saves intersecting the long lists of its common words (the counts are cached)."""
    words = content_words(q)
    if sort != "relevance" or prefix or len(words) < 3 or any(w in STOPWORDS for w in words):
        return False
    return min(doc_counts(words).values()) == 0


def _relaxed(q: Query, rows: list[tuple], limit: int, offset: int) -> list[tuple]:
    """The strict matches, then the papers matching any of q's selective words (see ANY_POSTINGS)."""
    words = selective_words(q)
    if not words:
        return rows
    strict = rows if offset == 0 else _search(q, offset + limit, 0, "relevance", False)
    seen = {r[0] for r in strict}
    relaxed = _relaxed_postings(q, words, offset + limit, seen)
    if relaxed is None:
        relaxed = _search(q, offset + limit + len(seen), 0, "relevance", False, any_words=words)
    merged = list(strict) + [r for r in relaxed if r[0] not in seen]
    return merged[offset : offset + limit]


def _relaxed_postings(q: Query, words: list[str], depth: int, seen: set[int]) -> list[tuple] | None:
    """The relaxed search ranked from the compact postings (see postings.py): the papers and scores of
    FTS5's `-bm25()` for `fts_match(q, any_words=words)`, the best `depth` of those not in `seen`. None
    when the postings cannot answer, and for queries with filters (FTS5 joins those)."""
    if not _postings_can(q):
        return None
    found = postings.relaxed_scores(words, *_phrases_and_exclusions(q))
    if found is None:
        return None
    ids, scores = found
    if seen and len(ids):
        keep = ~np.isin(ids, np.fromiter(seen, dtype=np.int64, count=len(seen)))
        ids, scores = ids[keep], scores[keep]
    return _visible_best(ids, scores, depth, 0)


def _strict_postings(q: Query, limit: int, offset: int) -> list[tuple] | None:
    """The strict relevance search scored from the compact postings: what the FTS5 fast path of
    `_search_sqlite` answers (the MATCH_DEPTH newest papers holding every word, ranked by bm25), or None."""
    if not _postings_can(q):
        return None
    found = postings.strict_scores(content_words(q), *_phrases_and_exclusions(q), MATCH_DEPTH)
    if found is None:
        return None
    return _visible_best(*found, limit, offset)


def _postings_can(q: Query) -> bool:
    """Whether the compact postings may rank `q` (SQLite, no filters: those stay SQL joins)."""
    return vendor() == "sqlite" and not q.has_filters


def _phrases_and_exclusions(q: Query) -> tuple[list[str], list[str]]:
    """q's phrases and exclusions as `fts_match` puts them in the MATCH expression."""
    return [p for p in q.phrases if has_token(p)], [e for e in q.excluded if has_token(e)]


def _visible_best(ids: np.ndarray, scores: np.ndarray, limit: int, offset: int) -> list[tuple]:
    """[(paper id, score)] for places offset..offset+limit among the visible papers of `ids`, ordered
    like the SQL searches: score, then upvotes, then the newer paper, then the higher id."""
    want = (offset + limit) * 2 + 50
    while True:
        top = np.argpartition(-scores, want - 1)[:want] if len(ids) > want else np.arange(len(ids))
        if not len(top):
            return []
        score_of = dict(zip(ids[top].tolist(), scores[top].tolist()))
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT p.id, p.upvotes, p.published_at FROM {P} p WHERE {_ids_sql('p.id')} AND NOT p.hidden",
                [_id_param(list(score_of))],
            )
            rows = cur.fetchall()
        # The SQL searches' order: score, more upvotes, newer (no date last), higher id. Dates compare
        # as stored (ISO text on SQLite, timestamps on PostgreSQL): only their order matters here.
        rows.sort(key=lambda r: (-score_of[r[0]], -(r[1] or 0), r[2] is None, _Desc(r[2]), -r[0]))
        if len(rows) >= offset + limit or len(top) == len(ids):
            return [(pid, score_of[pid]) for pid, _, _ in rows[offset : offset + limit]]
        want *= 4  # hidden or deleted papers took places: look deeper


class _Desc:
    """A sort key that puts larger values first. A None is only ever compared with another None (the key
    before it already put papers without a date last), and two Nones are equal."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value is not None and other.value is not None and self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value


def content_words(q: Query) -> list[str]:
    """q's words without stop words (lower case, each once); all of its words if every one is a stop word."""
    words = [t for t in q.terms if has_token(t)]
    content = [t for t in words if t.lower() not in STOPWORDS]
    return list(dict.fromkeys(t.lower() for t in (content or words)))


def any_postings() -> int:
    if ANY_POSTINGS is not None:
        return int(ANY_POSTINGS)
    from django.conf import settings

    return int(settings.PAPERBOARD_SEARCH_RELAXED_POSTINGS)


def selective_words(q: Query) -> list[str]:
    """q's words for a relaxed search: no stop words, rarest first, within ANY_POSTINGS postings in all.
    Empty when relaxing would not change the search (one word) or no word is rare enough."""
    words = [w for w in content_words(q) if w not in STOPWORDS]
    if not words or (len(q.terms) <= 1 and not q.phrases):
        return []
    counts = doc_counts(words)
    budget = any_postings()
    picked, total = [], 0
    for word in sorted(words, key=lambda w: counts[w]):
        n = counts[word]
        if n == 0:
            continue
        if total + n > budget or len(picked) == ANY_MAX_WORDS:
            break
        picked.append(word)
        total += n
    return picked


def doc_counts(words: list[str]) -> dict[str, int]:
    """How many papers contain each word, counted up to ANY_POSTINGS + 1: on SQLite from the compact
    postings when they can say (words FTS5 reads as one token); else one statement for the words not
    cached (counting stops early on common words)."""
    cap = any_postings() + 1
    counted = postings.doc_counts(words) if vendor() == "sqlite" else None
    if counted is not None and len(counted) == len(words):
        return {w: min(n, cap) for w, n in counted.items()}
    now = time.monotonic()
    db = str(connection.settings_dict.get("NAME"))
    out, todo = {}, []
    for w in words:
        if counted is not None and w in counted:
            out[w] = min(counted[w], cap)
            continue
        hit = _counts.get((db, cap, w))
        if hit and now - hit[0] < COUNT_TTL:
            out[w] = hit[1]
        else:
            todo.append(w)
    if todo:
        if len(_counts) > COUNT_CACHE_SIZE:
            _counts.clear()
        for w, n in _count_now(todo, cap).items():
            out[w] = n
            _counts[(db, cap, w)] = (now, n)
    return out


def forget_counts() -> None:
    """Drop the cached word counts and this process's postings (tests that rebuild the corpus call it)."""
    _counts.clear()
    postings.forget()


def _count_now(words: list[str], cap: int) -> dict[str, int]:
    if vendor() == "sqlite":
        one = f"SELECT count(*) FROM (SELECT 1 FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s)"
        params = [p for w in words for p in (_fts_quote(w), cap)]
    else:
        one = f"SELECT count(*) FROM (SELECT 1 FROM {DOC} WHERE document @@ plainto_tsquery('{PG_CONFIG}', %s) LIMIT %s) s"
        params = [p for w in words for p in (w, cap)]
    sql = " UNION ALL ".join(f"SELECT {i}, ({one})" for i in range(len(words)))
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {words[int(i)]: int(n) for i, n in cur.fetchall()}


def _is_query_error(exc: Exception) -> bool:
    from django.db import DatabaseError

    text = str(exc).lower()
    return isinstance(exc, DatabaseError) and ("syntax" in text or "fts5" in text or "tsquery" in text)


def _by_arxiv_id(arxiv_id: str) -> list[Hit]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT id FROM {P} WHERE arxiv_id = %s AND NOT hidden", [arxiv_id])
        row = cur.fetchone()
    return [Hit(int(row[0]), 1.0, "lexical")] if row else []


def _search_sqlite(q: Query, limit: int, offset: int, sort: str, prefix: bool, any_words=None) -> list[tuple]:
    where, params = _filters(q)
    match = fts_match(q, prefix=prefix, any_words=any_words)
    if match is not None and sort == "relevance" and len(where) == 1 and not prefix and not any_words:
        rows = _strict_postings(q, limit, offset)
        if rows is not None:
            return rows
    if match is not None and sort == "relevance" and len(where) == 1:
        # Words and no filters (the common case): rank inside FTS5 first and join only its best rows, about
        # twice as fast for common words. Deeper when hidden papers took places; never changes the answer
        # except among exactly tied scores at the cut.
        w = ", ".join(str(x) for x in WEIGHTS)
        # A relaxed search is already bounded by ANY_POSTINGS (its words were chosen for it): rank it whole.
        cap = MATCH_DEPTH if not any_words else max(MATCH_DEPTH, any_postings() + 1)
        depth = (offset + limit) * 2 + 50
        while True:
            sql = (
                f"SELECT p.id, c.score FROM (SELECT id, score FROM (SELECT rowid AS id, -bm25({FTS}, {w}) AS score "
                f"FROM {FTS} WHERE {FTS} MATCH %s ORDER BY rowid DESC LIMIT {cap}) ORDER BY score DESC LIMIT %s) c "
                f"JOIN {P} p ON p.id = c.id "
                f"WHERE NOT p.hidden ORDER BY c.score DESC, p.upvotes DESC, p.published_at DESC NULLS LAST, p.id DESC "
                "LIMIT %s OFFSET %s"
            )
            with connection.cursor() as cur:
                cur.execute(sql, [match, depth, limit, offset])
                rows = cur.fetchall()
                if len(rows) == limit:
                    return rows
                cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s)", [match, depth])
                if cur.fetchone()[0] < depth:  # FTS5 had no more rows: this is all there is
                    return rows
            depth *= 4
    if match is not None:
        w = ", ".join(str(x) for x in WEIGHTS)
        sql = (
            f"SELECT p.id, -bm25({FTS}, {w}) AS score FROM {FTS} JOIN {P} p ON p.id = {FTS}.rowid "
            f"WHERE {FTS} MATCH %s AND " + " AND ".join(where) + f" ORDER BY {_order(sort, 'score DESC')} "
            "LIMIT %s OFFSET %s"
        )
        args = [match, *params, limit, offset]
    else:
        negative = _fts_negative(q)
        if negative:
            where.append(f"p.id NOT IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)")
            params.append(negative)
        sql = f"SELECT p.id, 0.0 FROM {P} p WHERE " + " AND ".join(where) + f" ORDER BY {_order(sort, None)} LIMIT %s OFFSET %s"
        args = [*params, limit, offset]
    with connection.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _search_postgres(q: Query, limit: int, offset: int, sort: str, prefix: bool, any_words=None) -> list[tuple]:
    where, params = _filters(q)
    tsq = _pg_tsquery(q, prefix=prefix, any_words=any_words)
    negative = _pg_negative(q)
    if negative:
        where.append(f"NOT (d.document @@ {negative[0]})")
        params += negative[1]
    if tsq is not None:
        expr, tparams = tsq
        sql = (
            f"SELECT p.id, ts_rank_cd('{PG_WEIGHTS}'::float4[], d.document, {expr}, {PG_NORMALIZATION}) AS score "
            f"FROM {DOC} d JOIN {P} p ON p.id = d.paper_id WHERE d.document @@ {expr} AND "
            + " AND ".join(where)
            + f" ORDER BY {_order(sort, 'score DESC')} LIMIT %s OFFSET %s"
        )
        args = [*tparams, *tparams, *params, limit, offset]
    else:
        join = f"LEFT JOIN {DOC} d ON d.paper_id = p.id " if negative else ""
        if negative:  # a paper not indexed yet cannot be shown to lack the excluded words
            where.append("d.paper_id IS NOT NULL")
        sql = f"SELECT p.id, 0.0 FROM {P} p {join}WHERE " + " AND ".join(where) + f" ORDER BY {_order(sort, None)} LIMIT %s OFFSET %s"
        args = [*params, limit, offset]
    with connection.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def filter_ids(query: Query, ids: Iterable[int]) -> set[int]:
    """The papers among `ids` that are visible and pass `query`'s filters and exclusions (not its words):
    how hybrid search applies the filters to semantic hits."""
    ids = [int(i) for i in ids]
    if not ids or query.impossible:
        return set()
    where, params = _filters(query)
    where.append(_ids_sql("p.id"))
    params.append(_id_param(ids))
    join = ""
    if vendor() == "sqlite":
        negative = _fts_negative(query)
        if negative:
            where.append(f"p.id NOT IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)")
            params.append(negative)
    else:
        negative = _pg_negative(query)
        if negative:
            join = f"LEFT JOIN {DOC} d ON d.paper_id = p.id "
            where.append(f"NOT coalesce(d.document @@ {negative[0]}, false)")
            params += negative[1]
    with connection.cursor() as cur:
        cur.execute(f"SELECT p.id FROM {P} p {join}WHERE " + " AND ".join(where), params)
        return {int(r[0]) for r in cur.fetchall()}


# ---- Highlighting ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    title: SafeString  # the title, matched words in <mark>
    excerpt: SafeString  # a piece of the abstract around the matches


def marked_html(text: str) -> SafeString:
    """HTML-escape `text` and turn the OPEN/CLOSE markers the database put around matches into <mark>.
    The markers are private-use characters; unpaired ones are dropped, so the markup is always balanced."""
    out, inside = [], False
    for piece in re.split(f"([{OPEN}{CLOSE}])", text or ""):
        if piece == OPEN:
            if not inside:
                out.append("<mark>")
                inside = True
        elif piece == CLOSE:
            if inside:
                out.append("</mark>")
                inside = False
        elif piece:
            out.append(str(escape(piece)))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


def plain_excerpt(text: str, words: int = SNIPPET_TOKENS) -> SafeString:
    parts = (text or "").split()
    short = " ".join(parts[:words]) + (" …" if len(parts) > words else "")
    return mark_safe(str(escape(short)))  # noqa: S308


def highlights(query: Query, ids: Iterable[int], *, prefix: bool = False) -> dict[int, Snippet]:
    """Highlighted title and abstract excerpt for each of `ids` that matches q's words (only those:
    a paper found by meaning alone, or by filters, has no words to mark)."""
    ids = [int(i) for i in ids]
    if not ids or query.arxiv_id:
        return {}
    try:
        # Any of the words is marked (a paper found by the relaxed search has only some of them).
        words = None if prefix else content_words(query)
        if vendor() == "sqlite":
            match = fts_match(query, prefix=prefix, negative=False, any_words=words)
            if match is None:
                return {}
            with connection.cursor() as cur:
                # A literal rowid list (not json_each): FTS5 then seeks each row instead of scanning the words' lists.
                cur.execute(
                    f"SELECT rowid, highlight({FTS}, 0, %s, %s), snippet({FTS}, 2, %s, %s, '…', {SNIPPET_TOKENS}) "
                    f"FROM {FTS} WHERE {FTS} MATCH %s AND rowid IN ({', '.join(['%s'] * len(ids))})",
                    [OPEN, CLOSE, OPEN, CLOSE, match, *ids],
                )
                rows = cur.fetchall()
        else:
            tsq = _pg_tsquery(query, prefix=prefix, any_words=words)
            if tsq is None:
                return {}
            expr, tparams = tsq
            sel = f"StartSel={OPEN}, StopSel={CLOSE}"
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT p.id, ts_headline('{PG_CONFIG}', p.title, {expr}, %s), "
                    f"ts_headline('{PG_CONFIG}', p.abstract, {expr}, %s) FROM {P} p WHERE {_ids_sql('p.id')}",
                    [
                        *tparams,
                        f"HighlightAll=true, {sel}",
                        *tparams,
                        f'MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … ", {sel}',
                        _id_param(ids),
                    ],
                )
                rows = cur.fetchall()
    except Exception as exc:  # noqa: BLE001
        if not _is_query_error(exc):
            raise
        return {}
    return {int(pid): Snippet(marked_html(title), marked_html(excerpt)) for pid, title, excerpt in rows}
