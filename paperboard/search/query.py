"""The search query language: parse what a reader typed into a `Query`. Pure functions, no database.

    deep learning                 words: every word must match (title, authors or abstract)
    "graph neural network"        a phrase: these words, adjacent, in this order
    -survey   -"large language"   exclude papers with this word or phrase
    author:lecun  author:"Yann LeCun"   an author whose name contains every word given (au: too)
    cat:cs.LG   cat:cs            arXiv category (any of those given); `cs` alone means every cs.* code
    after:2025-01-01  before:2025-03   published on/after, on/before (YYYY, YYYY-MM or YYYY-MM-DD; inclusive)
    year:2024                     published in that year
    has:code                      a GitHub repository is linked

Anything that does not parse as one of these (an unknown `field:`, a bad date, an unbalanced quote) is
read as plain words, so every input is a valid search and nothing raises. A whole query that is an
arXiv id or an arXiv URL is recognised by `arxiv_id()` (and `Query.arxiv_id`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from paperboard.papers import ids

MAX_LENGTH = 500  # longer input is cut (a search box, not a document)
MAX_PARTS = 32  # words + phrases + exclusions + authors + categories kept; the rest is ignored
# The dates a filter can hold: a day inside Python's calendar at either end, so a bound can still be moved
# by a day (`before` is inclusive: the search asks for "before the next day") or into another time zone.
# `before:9999-12-31` and `after:0001-01-01` are clamped to these; they exclude no paper either way.
EARLIEST = dt.date(1, 1, 2)
LATEST = dt.date(9999, 12, 30)

FIELDS = {
    "author": "author",
    "au": "author",
    "cat": "cat",
    "category": "cat",
    "after": "after",
    "since": "after",
    "before": "before",
    "until": "before",
    "year": "year",
    "has": "has",
}

_FIELD_RE = re.compile(r"^([A-Za-z]+):(.*)$", re.DOTALL)
_CATEGORY_RE = re.compile(r"^[A-Za-z][A-Za-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_YEAR_RE = re.compile(r"^\d{4}$")
# Other places an arXiv id shows up in a URL (arxiv.org itself is handled by ids.parse_id_or_url).
_OTHER_URL_RE = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:huggingface\.co/papers|alphaxiv\.org/abs|arxiv-sanity-lite\.com/\?rank=pid&pid="
    r"|[^/\s]+/papers)/(?P<id>[^/?#\s]+?)(?:\.json|\.md)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Query:
    """A parsed search. Every field is optional; `raw` is what was typed."""

    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # words and phrases; a phrase keeps its spaces
    authors: tuple[str, ...] = ()  # each: one author's name must contain every word of it
    categories: tuple[str, ...] = ()  # any of them (a code without a dot means that whole archive)
    after: dt.date | None = None  # published on or after (inclusive)
    before: dt.date | None = None  # published on or before (inclusive)
    raw: str = ""
    has_code: bool = False
    arxiv_id: str | None = None  # set when the whole query is an arXiv id or URL

    def __post_init__(self) -> None:
        # Accept lists (callers building a Query by hand) but store tuples, so a Query is hashable.
        for name in ("terms", "phrases", "excluded", "authors", "categories"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))

    @property
    def text(self) -> str:
        """The free text (words and phrases, no filters): what a semantic search embeds."""
        return " ".join((*self.terms, *self.phrases)).strip()

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.phrases)

    @property
    def has_filters(self) -> bool:
        return bool(self.authors or self.categories or self.after or self.before or self.has_code)

    @property
    def is_empty(self) -> bool:
        return not (self.has_text or self.excluded or self.has_filters)

    @property
    def impossible(self) -> bool:
        """A date range that ends before it starts: nothing can match."""
        return bool(self.after and self.before and self.after > self.before)

    def with_filters(
        self,
        *,
        after: dt.date | None = None,
        before: dt.date | None = None,
        categories: tuple[str, ...] | list[str] = (),
        has_code: bool = False,
    ) -> Query:
        """This query narrowed by filters from outside the text (the search page's form fields)."""
        new_after = max(d for d in (self.after, after) if d) if (self.after or after) else None
        new_before = min(d for d in (self.before, before) if d) if (self.before or before) else None
        cats = tuple(dict.fromkeys((*self.categories, *(c for c in categories if c))))
        return Query(
            terms=self.terms,
            phrases=self.phrases,
            excluded=self.excluded,
            authors=self.authors,
            categories=cats,
            after=new_after,
            before=new_before,
            raw=self.raw,
            has_code=self.has_code or has_code,
            arxiv_id=self.arxiv_id,
        )


def arxiv_id(text: str) -> str | None:
    """The bare arXiv id when the whole of `text` is an arXiv id (`2305.15717`, `arXiv:2305.15717v2`,
    `cs/0610105`) or an arXiv URL (abs/, pdf/, html/, with or without version), else None.
    Links to the same paper on huggingface.co/papers, alphaxiv.org and Paperboard instances count too."""
    value = (text or "").strip().strip("<>")
    if not value or len(value) > 300 or any(c.isspace() for c in value):
        return None
    try:
        return ids.parse_id_or_url(value)[0]
    except ids.InvalidArxivId:
        pass
    m = _OTHER_URL_RE.match(value)
    if m:
        try:
            return ids.split_version(m.group("id"))[0]
        except ids.InvalidArxivId:
            return None
    return None


def parse_date(value: str, *, end: bool = False) -> dt.date | None:
    """`2025`, `2025-03` or `2025-03-07` as a date: the first day of that period, or its last with `end`,
    clamped to EARLIEST..LATEST. None when it is not a real date."""
    m = _DATE_RE.match(value.strip())
    if not m:
        return None
    year = int(m[1])
    month = int(m[2]) if m[2] else None
    day = int(m[3]) if m[3] else None
    try:
        if month is None:
            date = dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
        elif day is None:
            last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
            date = dt.date(year, month, last if end else 1)
        else:
            date = dt.date(year, month, day)
    except ValueError:
        return None
    return min(max(date, EARLIEST), LATEST)


def normalise_category(value: str) -> str | None:
    """`cs.LG`, `stat.ML`, `hep-th`, `cs` (a whole archive): returned as typed; None when not a code."""
    value = value.strip()
    if not value or len(value) > 40 or not _CATEGORY_RE.match(value):
        return None
    return value


def canonical_category(code: str) -> str:
    """arXiv's spelling of a category code typed in any case: the archive in lower case, a two-letter
    subject in upper case (`cs.LG`, `stat.ML`, `q-bio.NC`), a longer one in lower case (`physics.optics`,
    `cond-mat.mes-hall`)."""
    archive, _, subject = code.partition(".")
    if not subject:
        return archive.lower()
    return f"{archive.lower()}.{subject.upper() if len(subject) <= 2 else subject.lower()}"


def _tokens(text: str):
    """Yield (negated, field, value, quoted) for each item of `text`.

    An item is a bare word, a "quoted phrase", or field:value / field:"quoted value", each optionally
    preceded by `-`. A quote without its closing quote is dropped (the words after it are plain words).
    """
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = False
        if text[i] == "-" and i + 1 < n and not text[i + 1].isspace():
            negated = True
            i += 1
        if text[i] == '"':
            close = text.find('"', i + 1)
            if close == -1:  # unbalanced: forget the quote (and a '-' before it), read on as words
                i += 1
                continue
            yield (negated, None, text[i + 1 : close], True)
            i = close + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"':
            j += 1
        word = text[i:j]
        m = _FIELD_RE.match(word)
        if m and j < n and text[j] == '"' and m.group(2) == "" and m.group(1).lower() in FIELDS:
            close = text.find('"', j + 1)
            if close != -1:  # field:"quoted value"
                yield (negated, m.group(1).lower(), text[j + 1 : close], True)
                i = close + 1
                continue
            j += 1  # unbalanced: drop the quote; the value is the next word, read as usual
            k = j
            while k < n and not text[k].isspace() and text[k] != '"':
                k += 1
            yield (negated, m.group(1).lower(), text[j:k], False)
            i = k
            continue
        if m and m.group(1).lower() in FIELDS:
            yield (negated, m.group(1).lower(), m.group(2), False)
        else:
            yield (negated, None, word, False)
        i = j
        if i < n and text[i] == '"' and (text.find('"', i + 1) == -1):
            i += 1  # a stray closing quote glued to a word


def _has_word(value: str) -> bool:
    """True when `value` has a letter or digit (something a full-text index can match)."""
    return any(ch.isalnum() for ch in value)


def _clean(value: str) -> str:
    return " ".join(value.split())


def parse(text: str | None) -> Query:
    """Parse a search box's text. Never raises; malformed parts become plain words."""
    raw = text or ""
    # Control characters (a NUL in a pasted string) mean nothing in a search and break FTS5 and PostgreSQL.
    value = "".join(ch if ch.isprintable() else " " for ch in raw[:MAX_LENGTH])
    whole_id = arxiv_id(value)
    terms: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    authors: list[str] = []
    categories: list[str] = []
    after: dt.date | None = None
    before: dt.date | None = None
    has_code = False

    def word(negated: bool, w: str, quoted: bool) -> None:
        w = _clean(w)
        if not w or not _has_word(w):
            return
        if negated:
            excluded.append(w)
        elif quoted and " " in w:
            phrases.append(w)
        else:
            terms.append(w)

    def narrow_after(d: dt.date) -> None:
        nonlocal after
        after = d if after is None else max(after, d)

    def narrow_before(d: dt.date) -> None:
        nonlocal before
        before = d if before is None else min(before, d)

    if whole_id is None:
        for negated, name, val, quoted in _tokens(value):
            if name is None:
                word(negated, val, quoted)
                continue
            original = f"{name}:{val}"
            v = _clean(val)
            if negated or not v:  # -field:value and an empty field are plain words
                word(negated, original if not quoted else v, quoted)
                continue
            kind = FIELDS[name]
            if kind == "author" and _has_word(v):
                authors.append(v)
            elif kind == "cat" and (code := normalise_category(v)):
                categories.append(code)
            elif kind == "after" and (d := parse_date(v)):
                narrow_after(d)
            elif kind == "before" and (d := parse_date(v, end=True)):
                narrow_before(d)
            elif kind == "year" and _YEAR_RE.match(v) and (d := parse_date(v)):
                narrow_after(d)
                narrow_before(parse_date(v, end=True))
            elif kind == "has" and v.lower() in ("code", "repo", "github"):
                has_code = True
            else:  # a field with a value it cannot take: plain words
                word(False, original if not quoted else f"{name} {v}", quoted)
    else:
        terms.append(whole_id)

    def dedupe(items: list[str]) -> tuple[str, ...]:
        seen: dict[str, str] = {}
        for item in items:
            seen.setdefault(item.lower(), item)
        return tuple(seen.values())[:MAX_PARTS]

    return Query(
        terms=dedupe(terms),
        phrases=dedupe(phrases),
        excluded=dedupe(excluded),
        authors=dedupe(authors),
        categories=dedupe(categories),
        after=after,
        before=before,
        raw=raw,
        has_code=has_code,
        arxiv_id=whole_id,
    )


def to_text(q: Query) -> str:
    """Write a Query back in the query language (the search box shows the filters it applied)."""

    def quote(v: str) -> str:
        return f'"{v}"' if (" " in v or ":" in v) else v

    parts = [*q.terms, *(f'"{p}"' for p in q.phrases), *(f"-{quote(e)}" for e in q.excluded)]
    parts += [f"author:{quote(a)}" for a in q.authors]
    parts += [f"cat:{c}" for c in q.categories]
    if q.after and q.before and q.after == dt.date(q.after.year, 1, 1) and q.before == dt.date(q.after.year, 12, 31):
        parts.append(f"year:{q.after.year}")
    else:
        if q.after:
            parts.append(f"after:{q.after.isoformat()}")
        if q.before:
            parts.append(f"before:{q.before.isoformat()}")
    if q.has_code:
        parts.append("has:code")
    return " ".join(parts)


__all__ = ["Query", "parse", "arxiv_id", "parse_date", "normalise_category", "canonical_category", "to_text"]
