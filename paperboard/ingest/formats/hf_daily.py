"""Hugging Face `/api/daily_papers` JSON: a list of items `{paper: {...}, submittedBy, numComments, ...}`.

Each item becomes a paper plus its day on the feed (SubmissionRecord) with upvotes and comment count.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from paperboard.ingest import clean
from paperboard.ingest.formats import jsonstream
from paperboard.ingest.records import PaperRecord, Rejected, SubmissionRecord


def parse(data: bytes | BinaryIO, source: str) -> Iterator[PaperRecord | Rejected]:
    """Yield the records of a daily-papers answer (bytes or a stream), item by item.

    A malformed document keeps the records before the damage and rejects the rest with the reason.
    """
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        for where, value in jsonstream.items(stream):
            if where == "file":  # not a list: a single paper_info object, or {"papers": [...]}
                yield from _document(value, source)
            else:
                yield _item(value, source, where)
    except jsonstream.BadJson as exc:
        rest = "; the rest of the file was skipped" if exc.where != "file" else ""
        yield Rejected(source, exc.where, f"{exc.reason}{rest}")


def _document(value: object, source: str) -> Iterator[PaperRecord | Rejected]:
    items = value.get("papers", [value]) if isinstance(value, dict) else value
    if not isinstance(items, list):
        yield Rejected(source, "file", "expected a JSON list of daily-papers items")
        return
    for n, item in enumerate(items, start=1):
        yield _item(item, source, f"record {n}")


def _item(item: object, source: str, where: str) -> PaperRecord | Rejected:
    if not isinstance(item, dict):
        return Rejected(source, where, "an item must be a JSON object")
    return parse_item(item, source, where)


def _int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    return max(0, int(value))


def parse_item(item: dict, source: str, where: str) -> PaperRecord | Rejected:
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
    authors = paper.get("authors") or []
    if not isinstance(authors, list):
        return Rejected(source, where, "authors must be a list")
    names = [a.get("name", "") if isinstance(a, dict) else a for a in authors]
    submission = None
    submitted = paper.get("submittedOnDailyAt") or (item.get("publishedAt") if item is not paper else None)
    try:
        upvotes = _int(paper.get("upvotes", item.get("upvotes")))
        num_comments = _int(item.get("numComments"))
        if submitted:
            submitted_at = clean.parse_datetime(submitted)
            by = item.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
            if not isinstance(by, dict):
                by = {}
            submission = SubmissionRecord(
                day=submitted_at.date(),
                submitted_at=submitted_at,
                submitter=str(by.get("name") or by.get("user") or ""),
                submitter_fullname=str(by.get("fullname") or ""),
                upvotes=upvotes,
                num_comments=num_comments,
            )
    except (ValueError, TypeError) as exc:
        return Rejected(source, where, f"bad daily-papers fields ({exc})")
    return clean.build(
        source,
        where,
        arxiv_id=paper.get("id"),
        title=paper.get("title") or item.get("title"),
        abstract=paper.get("summary") or item.get("summary") or "",
        authors=names,
        published=paper.get("publishedAt"),
        github_repo=paper.get("githubRepo") or "",
        project_page=paper.get("projectPage") or "",
        github_stars=paper.get("githubStars"),
        submission=submission,
    )
