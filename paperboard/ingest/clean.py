"""Shared normalisation for every format: ids, whitespace, dates. Returns a PaperRecord or a Rejected."""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from paperboard.ingest import ids
from paperboard.ingest.records import PaperRecord, Rejected, SubmissionRecord

# arXiv category codes: cs.LG, math.AP, hep-th, q-bio.NC, astro-ph.GA ...
CATEGORY_RE = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z\-]{2,})?$")


def squash(text: str | None) -> str:
    """Collapse runs of whitespace (arXiv wraps titles and abstracts) and strip."""
    if not text:
        return ""
    return " ".join(text.split())  # several times faster than a regex substitution


# Column widths (papers.models): longer values are cut (names, DOIs) or dropped (URLs) rather than
# failing the whole batch on PostgreSQL, which enforces them (SQLite does not).
MAX_AUTHOR = 300
MAX_CATEGORY = 40
MAX_DOI = 200
MAX_URL = 500


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
