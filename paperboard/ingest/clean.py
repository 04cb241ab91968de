"""Shared normalisation for every format: ids, whitespace, dates. Returns a PaperRecord or a Rejected."""

from __future__ import annotations

import datetime as dt
import email.utils

from paperboard.conftypes import CATEGORY_RE
from paperboard.ingest.limits import (
    MAX_ABSTRACT,
    MAX_AUTHOR,
    MAX_AUTHORS,
    MAX_CATEGORIES,
    MAX_CATEGORY,
    MAX_COMMENT,
    MAX_DOI,
    MAX_JOURNAL_REF,
    MAX_TITLE,
    MAX_URL,
)
from paperboard.ingest.records import PaperRecord, Rejected, SubmissionRecord
from paperboard.papers import ids
from paperboard.safetext import UNSTORABLE  # the same rule as the web layer: NUL and lone surrogates


def squash(text: str | None) -> str:
    """Collapse runs of whitespace (arXiv wraps titles and abstracts) and strip."""
    if not text:
        return ""
    return " ".join(text.split())  # several times faster than a regex substitution


# Column widths (papers.models, the MAX_* in limits.py): longer values are cut (names, DOIs) or dropped
# (URLs) rather than failing the whole batch on PostgreSQL, which enforces them (SQLite does not).



def unstorable(name: str, value: object) -> str | None:
    """Why a text field cannot be stored, or None. Only strings are looked at."""
    if isinstance(value, str):
        m = UNSTORABLE.search(value)
        if m:
            what = "a NUL character" if m.group() == "\x00" else f"a lone surrogate (U+{ord(m.group()):04X})"
            return f"{name} contains {what}"
    return None


def too_long(name: str, text: str, limit: int) -> str | None:
    """Why `text` is over `limit` characters once its whitespace is collapsed, or None."""
    if len(text) <= limit or len(squashed := squash(text)) <= limit:  # squash only when it could matter
        return None
    return f"{name} longer than {limit:,} characters ({len(squashed):,})"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _url(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return text if len(text) <= MAX_URL and text.startswith(("http://", "https://")) else ""


def parse_datetime(value: str | None) -> dt.datetime | None:
    """Parse an ISO date, ISO datetime or RFC 2822 date (arXivRaw versions) into an aware UTC datetime.

    Raises ValueError on text that is none of these.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text[:4].isdigit():
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        if len(text) == 10:
            d = dt.date.fromisoformat(text)
            return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
        parsed = dt.datetime.fromisoformat(text)
    else:
        parsed = email.utils.parsedate_to_datetime(text)  # raises ValueError/TypeError on junk
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _check_sizes_and_text(
    authors: list[str], categories: list[str], submission: SubmissionRecord | None, **texts: object
) -> str | None:
    """The first reason this record cannot be stored (a cap from limits.py, or unstorable text), or None."""
    if len(authors) > MAX_AUTHORS:
        return f"{len(authors):,} authors, more than the {MAX_AUTHORS:,} allowed"
    if len(categories) > MAX_CATEGORIES:
        return f"{len(categories):,} categories, more than the {MAX_CATEGORIES:,} allowed"
    named = list(texts.items()) + [("an author name", a) for a in authors] + [("a category", c) for c in categories]
    if submission is not None:
        named += [("the submitter", submission.submitter), ("the submitter's name", submission.submitter_fullname)]
    if UNSTORABLE.search("".join(v for _, v in named if isinstance(v, str))):  # one search in the common case
        for name, value in named:
            problem = unstorable(name.replace("_", " "), value)
            if problem:
                return problem
    for name, limit in (("title", MAX_TITLE), ("abstract", MAX_ABSTRACT), ("comment", MAX_COMMENT),
                        ("journal_ref", MAX_JOURNAL_REF)):
        value = texts[name]
        problem = too_long(name.replace("_", " "), value, limit) if isinstance(value, str) else None
        if problem:
            return problem
    return None


def build(
    source: str,
    where: str,
    *,
    arxiv_id: object,
    title: object,
    abstract: object = "",
    authors: object = (),
    categories: object = (),
    version: int | None = None,
    published: object = None,
    updated: object = None,
    comment: object = "",
    journal_ref: object = "",
    doi: object = "",
    github_repo: object = "",
    project_page: object = "",
    github_stars: object = None,
    submission: SubmissionRecord | None = None,
) -> PaperRecord | Rejected:
    """Validate and normalise one record's fields; any problem becomes a Rejected with a reason."""
    if not isinstance(arxiv_id, str) or not arxiv_id.strip():
        return Rejected(source, where, "missing arXiv id")
    try:
        bare, id_version = ids.split_version(arxiv_id)
    except ids.InvalidArxivId as exc:
        return Rejected(source, where, str(exc))
    if not isinstance(title, str) or not squash(title):
        return Rejected(source, where, f"{bare}: missing title")
    if not isinstance(abstract, str):
        return Rejected(source, where, f"{bare}: abstract is not text")
    if isinstance(authors, str) or not all(isinstance(a, str) for a in authors):  # type: ignore[union-attr]
        return Rejected(source, where, f"{bare}: authors must be a list of names")
    if isinstance(categories, str):
        categories = categories.split()
    if not all(isinstance(c, str) for c in categories):  # type: ignore[union-attr]
        return Rejected(source, where, f"{bare}: categories must be a list of codes")
    problem = _check_sizes_and_text(
        authors, categories, submission,  # type: ignore[arg-type]
        title=title, abstract=abstract, comment=comment, journal_ref=journal_ref, doi=doi,
        github_repo=github_repo, project_page=project_page,
    )
    if problem:
        return Rejected(source, where, f"{bare}: {problem}")
    cats: list[str] = []
    for c in categories:  # type: ignore[union-attr]
        c = c.strip()
        if c and c not in cats and len(c) <= MAX_CATEGORY and CATEGORY_RE.match(c):
            cats.append(c)
    try:
        published_at = parse_datetime(published)  # type: ignore[arg-type]
        updated_at = parse_datetime(updated)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        return Rejected(source, where, f"{bare}: bad date ({exc})")
    stars = None
    if github_stars not in (None, ""):
        try:
            stars = max(0, int(github_stars))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return Rejected(source, where, f"{bare}: githubStars is not a number")
    return PaperRecord(
        arxiv_id=bare,
        title=squash(title),
        abstract=squash(abstract),
        authors=[_cut(n, MAX_AUTHOR) for n in (squash(a) for a in authors) if n],  # type: ignore[union-attr]
        categories=cats,
        version=version if version is not None else id_version,
        published_at=published_at,
        updated_at=updated_at,
        comment=squash(comment if isinstance(comment, str) else ""),
        journal_ref=squash(journal_ref if isinstance(journal_ref, str) else ""),
        doi=_cut(squash(doi if isinstance(doi, str) else ""), MAX_DOI),
        github_repo=_url(github_repo),
        project_page=_url(project_page),
        github_stars=stars,
        submission=submission,
    )
