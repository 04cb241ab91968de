"""What the keyword backends share: table names, field weights, stop words, the ids as one
parameter, and the SQL of a query's filters and sort orders (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

from django.db import DatabaseError, connection

from paperboard.papers.sql import id_param, ids_sql  # noqa: F401 - the keyword backends' spelling
from paperboard.search.hits import Hit
from paperboard.search.query import Query, canonical_category

FTS = "search_fts"


DOC = "search_lexicaldoc"


P = "papers_paper"


# Field weights, title : authors : abstract (see the module docstring).
WEIGHTS = (10.0, 4.0, 1.0)


PG_WEIGHTS = "{0.0, 0.1, 0.4, 1.0}"  # ts_rank_cd order: D, C (abstract), B (authors), A (title)


PG_CONFIG = "english"


PG_NORMALIZATION = 1  # ts_rank_cd: divide by 1 + log(document length), as BM25 discounts long documents


SORTS = ("relevance", "newest", "upvotes")


# BM25 costs ~1.3 µs per matching paper in FTS5 ("language model" matches 101k papers here: 127 ms). A
# strict search ranks at most the MATCH_DEPTH most recently added matching papers (rowid order), which
# bounds its cost at any corpus size; a query matching fewer papers is unaffected. (SQLite, no filters.)
MATCH_DEPTH = 10_000


STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "via", "using", "use", "used", "based", "new", "towards", "toward", "paper", "approach", "method", "methods", "study"]
)


def vendor() -> str:
    return connection.vendor


def has_token(value: str) -> bool:
    return any(ch.isalnum() for ch in value)


def fts_quote(value: str) -> str:
    """One FTS5 string (a phrase of the tokens in `value`); the only special character inside is `"`."""
    return '"' + value.replace('"', '""') + '"'


PREFIX_WORD = re.compile(r"^\w{3,}$")


def day_start(d: dt.date):
    return connection.ops.adapt_datetimefield_value(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC))


def _like(value: str) -> str:
    return "%" + value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filters(q: Query) -> tuple[list[str], list]:
    """WHERE clauses on `p` (papers_paper) for q's filters, and their parameters."""
    where, params = ["NOT p.hidden"], []
    if q.after:
        where.append("p.published_at >= %s")
        params.append(day_start(q.after))
    if q.before:
        where.append("p.published_at < %s")
        params.append(day_start(q.before + dt.timedelta(days=1)))
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


def order(sort: str, score: str | None) -> str:
    recency = "p.published_at DESC NULLS LAST, p.id DESC"
    if sort == "newest":
        return f"{recency}" + (f", {score}" if score else "")
    if sort == "upvotes":
        return "p.upvotes DESC, " + (f"{score}, " if score else "") + recency
    if score:
        return f"{score}, p.upvotes DESC, {recency}"
    return recency


def content_words(q: Query) -> list[str]:
    """q's words without stop words (lower case, each once); all of its words if every one is a stop word."""
    words = [t for t in q.terms if has_token(t)]
    content = [t for t in words if t.lower() not in STOPWORDS]
    return list(dict.fromkeys(t.lower() for t in (content or words)))


def is_query_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return isinstance(exc, DatabaseError) and ("syntax" in text or "fts5" in text or "tsquery" in text)


def by_arxiv_id(arxiv_id: str) -> list[Hit]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT id FROM {P} WHERE arxiv_id = %s AND NOT hidden", [arxiv_id])
        row = cur.fetchone()
    return [Hit(int(row[0]), 1.0, "lexical")] if row else []
