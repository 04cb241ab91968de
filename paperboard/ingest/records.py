"""The normalised shapes every source format is parsed into, before the store upserts them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from paperboard.ingest.limits import MAX_REASON_CHARS


@dataclass(slots=True)
class SubmissionRecord:
    """A paper's day on a daily feed, as a Hugging Face daily-papers export describes it."""

    day: dt.date
    submitted_at: dt.datetime
    submitter: str = ""  # username; empty when unknown
    submitter_fullname: str = ""
    upvotes: int | None = None
    num_comments: int | None = None


@dataclass(slots=True)
class PaperRecord:
    arxiv_id: str  # without version
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)  # display names, in arXiv order
    categories: list[str] = field(default_factory=list)  # primary first
    version: int | None = None
    published_at: dt.datetime | None = None  # v1 submission
    updated_at: dt.datetime | None = None  # latest version
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""
    github_repo: str = ""
    project_page: str = ""
    github_stars: int | None = None
    submission: SubmissionRecord | None = None


@dataclass(slots=True)
class Rejected:
    """A record that could not be imported: where it was and why. The import goes on without it."""

    source: str  # file name or URL
    where: str  # "line 12", "record 3", ...
    reason: str

    def __post_init__(self) -> None:
        # A reason may quote the bad value (an id, a date); a hostile file must not make reports huge.
        if len(self.reason) > MAX_REASON_CHARS:
            self.reason = self.reason[: MAX_REASON_CHARS - 1] + "…"

    def __str__(self) -> str:
        return f"{self.source}: {self.where}: {self.reason}"
