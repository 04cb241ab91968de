"""Response shapes for the OpenAPI schema (documentation; handlers build the same dicts in shapes.py)."""

from __future__ import annotations

from ninja import Field, Schema


class User(Schema):
    id: str = Field(alias="_id")
    user: str
    name: str
    fullname: str
    avatarUrl: str
    type: str


class Author(Schema):
    id: str = Field(alias="_id")
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
    githubRepo: str | None
    projectPage: str | None
    githubStars: int | None
    arxivUrl: str
    pdfUrl: str
    url: str
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


class SubmitIn(Schema):
    id: str = Field(description="arXiv id or URL (abs/, pdf/, html/, with or without version)")
    note: str | None = Field(None, max_length=1000, description="optional note shown with the submission")


class VoteOut(Schema):
    id: str
    upvotes: int
    voted: bool


class CommentAuthor(Schema):
    user: str
    fullname: str


class CommentOut(Schema):
    id: int
    author: CommentAuthor | None
    body: str
    html: str
    createdAt: str
    editedAt: str | None
    parentId: int | None
    deleted: bool


class CommentIn(Schema):
    body: str = Field(min_length=1, max_length=10000)
    parentId: int | None = None
