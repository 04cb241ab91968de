"""The OpenAPI schema's shapes and answers (documentation: handlers build the same dicts in papers/shapes.py).

Field names are the JSON names the API sends, which follow Hugging Face's papers API: where that name
is not a Python name (`_id`), the field has it as alias and operations are documented `by_alias`.
`documented()` gives an operation its success shape and every error status it can answer with.
"""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Schema

COMMENT_ID_MAX = 2**63 - 1  # database ids are 64-bit


class User(Schema):
    id: str = Field(alias="_id")
    user: str
    name: str
    fullname: str
    avatarUrl: str
    type: str
    isPro: bool


class Author(Schema):
    id: str = Field(alias="_id", description="`{paper id}:{position}`")
    name: str
    hidden: bool


class Paper(Schema):
    id: str = Field(description="arXiv id without version")
    authors: list[Author]
    publishedAt: str | None = Field(description="first submitted to arXiv")
    updatedAt: str | None
    title: str
    summary: str
    upvotes: int
    numComments: int
    discussionId: str
    version: int
    categories: list[str] = Field(description="arXiv categories, primary first")
    primaryCategory: str | None
    comment: str | None = Field(description="the authors' arXiv comment")
    journalRef: str | None
    doi: str | None
    githubRepo: str | None
    projectPage: str | None
    githubStars: int | None
    arxivUrl: str
    pdfUrl: str
    url: str = Field(description="the paper's page on this instance (PAPERBOARD_BASE_URL)")
    submittedOnDailyAt: str | None = None
    submittedOnDailyBy: User | None = None
    feedDay: str | None = None


class DailyPaper(Schema):
    paper: Paper
    publishedAt: str = Field(description="when it was put on the daily feed")
    title: str
    summary: str
    thumbnail: str
    numComments: int
    submittedBy: User | None
    isAuthorParticipating: bool


class SearchResult(DailyPaper):
    publishedAt: str | None = Field(description="when it was put on the daily feed; null when it never was")
    upvotes: int
    score: float = Field(description="relevance, higher first")
    source: str = Field(description="what found it: lexical, semantic or hybrid")


class SubmitIn(Schema):
    id: str = Field(description="arXiv id or URL (abs/, pdf/, html/, with or without version)",
                    examples=["2501.00002", "https://arxiv.org/abs/2501.00002v1"])
    note: str | None = Field(None, max_length=1000, description="optional note shown with the submission")


class VoteOut(Schema):
    id: str
    upvotes: int
    voted: bool


class CommentAuthor(Schema):
    user: str
    fullname: str


class CommentOut(Schema):
    id: str = Field(description="the comment's id, a string of digits (as the Hub sends ids)")
    author: CommentAuthor | None
    body: str
    html: str
    createdAt: str
    editedAt: str | None
    parentId: str | None
    deleted: bool


CommentId = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,18}$")] | Annotated[int, Field(ge=1, le=COMMENT_ID_MAX)]


class CommentIn(Schema):
    body: str = Field(min_length=1, max_length=10000)
    parentId: CommentId | None = Field(None, description="the id of the comment replied to, as `id` gives it")


class Error(Schema):
    """Every error answer of the API."""

    error: str = Field(description="the reason, for people")
    code: str = Field(description="a machine-readable code (docs/api.md lists them)")


# What each error status means, for the schema (docs/api.md has the codes per route).
ERRORS: dict[int, str] = {
    400: "A parameter or body is malformed or out of range (`invalid_parameter`, `invalid_id`, `invalid_cursor`, "
    "`note_too_long`, `empty`, `too_long`, `too_complex`, `bad_parent`, `http_error`)",
    401: "No valid API token (`unauthorized`)",
    403: "The account may not do this (`banned`, `inactive`, `not_confirmed`, `not_allowed`, `weekend_pause`)",
    404: "No such paper or comment (`not_found`)",
    409: "The paper is already on the feed (`duplicate`)",
    422: "The paper is too old to be submitted (`too_old`)",
    429: "Too many requests (`rate_limited`) or submissions today (`quota_exceeded`); retry after `Retry-After`",
    503: "arXiv did not answer while fetching a paper new to this instance (`arxiv_unavailable`)",
}
RETRY_AFTER = {"description": "seconds to wait before trying again", "required": True, "schema": {"type": "integer"}}
URI_TOO_LONG = {
    "description": "The URL is longer than the HTTP server accepts (gunicorn: 4094 bytes); its plain answer, not JSON"
}


def documented(ok: dict[int, Any], *errors: int, headers: dict[str, dict] | None = None) -> dict:
    """Keyword arguments of an operation: `response` (its success shape and `Error` for each of `errors`),
    and the schema details ninja does not write itself (JSON names, error descriptions, headers)."""
    responses: dict[int, dict] = {status: {"description": ERRORS[status]} for status in errors}
    if 429 in errors:
        responses[429]["headers"] = {"Retry-After": RETRY_AFTER}
    if headers:
        for status in ok:
            responses[status] = {"headers": headers}
    responses[414] = URI_TOO_LONG
    return {
        "response": {**ok, **{status: Error for status in errors}},
        "by_alias": True,
        "openapi_extra": {"responses": responses},
    }
