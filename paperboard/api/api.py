"""The JSON API, shaped like Hugging Face's papers API (`/api/daily_papers`, `/api/papers/{id}`, ...).

Errors are JSON `{"error": reason, "code": machine_code}` with the right HTTP status.
Handlers return prebuilt JSON (no per-item schema validation on the hot path); the schemas below
document the shapes in the OpenAPI schema at /api/openapi.json.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Query
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from paperboard import ratelimit
from paperboard.absolute import absolute_url
from paperboard.accounts.models import ApiToken
from paperboard.accounts.status import check_can_write
from paperboard.api import schemas
from paperboard.api.schemas import documented
from paperboard.community import comments, submissions, votes
from paperboard.community.models import Comment
from paperboard.errors import Refused
from paperboard.papers import caching, ids, periods, queries, shapes
from paperboard.papers.models import Paper, Vote
from paperboard.search import service

api = NinjaAPI(
    title="Paperboard API",
    version="1",
    description="Daily papers, shaped like the Hugging Face papers API. Reads are anonymous.",
    urls_namespace="api",
)


# Every write can answer these: a bad id or body, no valid token, an account that may not write, no such
# paper, too many writes (with Retry-After).
WRITE_ERRORS = (400, 401, 403, 404, 429)
NEXT_LINK = {"description": '`<…/api/papers?cursor=…&limit=…>; rel="next"`, on PAPERBOARD_BASE_URL; absent on the '
             "last page", "schema": {"type": "string"}}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> HttpResponse:
    return HttpResponse(
        json.dumps({"error": message, "code": code}), status=status, content_type="application/json"
    )


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(exc.status, exc.code, exc.message)


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    parts = []
    for e in exc.errors:
        loc = ".".join(str(x) for x in e.get("loc", ())[1:] if x not in ("query", "path")) or "request"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return error_response(400, "invalid_parameter", "; ".join(parts) or "invalid parameters")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return error_response(exc.status_code, "http_error", str(exc))


@csrf_exempt  # as the API's own routes are: it answers the same JSON 404 to every method
def unknown_endpoint(request: HttpRequest) -> HttpResponse:
    """Any /api/ URL no operation matches (e.g. an id with a line break): a JSON 404 like every API error."""
    return error_response(404, "not_found", "no such API endpoint; see /api/docs")


def json_response(data, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data, separators=(",", ":")), status=status, content_type="application/json")


def _period(date: str | None, week: str | None, month: str | None) -> periods.Period | None:
    given = [(k, v) for k, v in (("date", date), ("week", week), ("month", month)) if v]
    if len(given) > 1:
        raise ApiError(400, "invalid_parameter", "give at most one of date, week and month")
    if not given:
        return None
    try:
        return periods.parse(*given[0])
    except periods.BadPeriod as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None


@api.get("/daily_papers", **documented({200: list[schemas.DailyPaper]}, 400), summary="Papers on the daily feed")
def daily_papers(
    request: HttpRequest,
    p: int = Query(0, ge=0, le=10_000, description="page number, from 0"),
    limit: int = Query(50, ge=1, le=100, description="items per page (1-100)"),
    date: str | None = Query(None, description="a day, YYYY-MM-DD"),
    week: str | None = Query(None, description="an ISO week, YYYY-Www"),
    month: str | None = Query(None, description="a month, YYYY-MM"),
    submitter: str | None = Query(None, description="username of the submitter"),
    sort: Literal["publishedAt", "trending"] | None = Query(
        None, description="publishedAt: newest on the feed first; trending: the published formula (docs/ranking.md, /papers/trending); default: upvotes"
    ),
):
    period = _period(date, week, month)

    def build() -> HttpResponse:
        items = queries.feed(
            period, sort=sort or "upvotes", offset=p * limit, limit=limit, submitter=submitter or None
        )
        return json_response([shapes.daily_item_json(s) for s in items])

    return caching.cached_response(request, build)


def _paper_or_404(paper_id: str):
    try:
        arxiv_id = ids.normalise(paper_id)
    except ids.InvalidArxivId:
        raise ApiError(400, "invalid_id", f"not an arXiv id: {paper_id!r}") from None
    paper = queries.paper(arxiv_id)
    if paper is None:
        raise ApiError(404, "not_found", f"paper {arxiv_id} not found")
    return paper


@api.get("/papers", **documented({200: list[schemas.Paper]}, 400, headers={"Link": NEXT_LINK}),
         summary="All papers, cursor-paged")
def list_papers(
    request: HttpRequest,
    cursor: str | None = Query(None, description="opaque cursor from the previous page's Link header"),
    limit: int = Query(50, ge=1, le=1000),
):
    after = 0
    if cursor:
        try:
            after = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "invalid_cursor", "cursor is not one this server issued") from None

    def build() -> HttpResponse:
        items = queries.papers_after(after, limit)
        response = json_response([shapes.paper_json(x) for x in items])
        if len(items) == limit:
            token = base64.urlsafe_b64encode(str(items[-1].pk).encode()).decode().rstrip("=")
            response["Link"] = f'<{absolute_url("/api/papers")}?cursor={token}&limit={limit}>; rel="next"'
        return response

    return caching.cached_response(request, build)


# ---- Writes: `Authorization: Bearer <token>` (tokens are made on /accounts/settings) ----------------------


class BearerToken(HttpBearer):
    """Authenticate a write with an API token; a missing or bad token is a 401 JSON error."""

    def authenticate(self, request, token):
        user = ApiToken.user_for(token)
        if user is not None:
            request.user = user
        return user


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return error_response(401, "unauthorized", "a valid API token is required: Authorization: Bearer <token>")


@api.exception_handler(Refused)
def _refused(request, exc: Refused):
    response = error_response(exc.status, exc.code, exc.message)
    if exc.status == 429:  # today's submission quota: it resets when the next feed day starts
        response["Retry-After"] = str(_seconds_to_next_feed_day())
    return response


def _seconds_to_next_feed_day() -> int:
    now = timezone.localtime()
    tomorrow = timezone.make_aware(dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time.min))
    return max(1, math.ceil((tomorrow - now).total_seconds()))


@api.exception_handler(ratelimit.RateLimited)
def _rate_limited(request, exc: ratelimit.RateLimited):
    return ratelimit.too_many(request, exc)


def _writer(request, action: str):
    check_can_write(request.auth)
    ratelimit.hit(action, f"u{request.auth.pk}")
    return request.auth


@api.post("/papers/submit", auth=BearerToken(), **documented({201: schemas.DailyPaper}, *WRITE_ERRORS, 409, 422, 503),
          summary="Submit a paper")
def submit_paper(request: HttpRequest, body: schemas.SubmitIn):
    user = _writer(request, "submit")
    submission = submissions.submit(user, body.id, note=body.note or "")
    card = queries.load_cards([submission.paper_id])[0]
    return json_response(shapes.daily_item_json(card.feed_submission), status=201)


def _change_vote(request: HttpRequest, paper_id: str, change) -> HttpResponse:
    """Upvote or take back (`change` is `votes.upvote` or `votes.unvote`); the answer is the vote's state after."""
    user = _writer(request, "vote")
    paper = _paper_or_404(paper_id)
    change(user, paper)
    upvotes = Paper.objects.filter(pk=paper.pk).values_list("upvotes", flat=True).first()
    return json_response({"id": paper.arxiv_id, "upvotes": upvotes,
                          "voted": Vote.objects.filter(paper=paper, user=user).exists()})


@api.post("/papers/{path:paper_id}/upvote", auth=BearerToken(), **documented({200: schemas.VoteOut}, *WRITE_ERRORS),
          summary="Upvote")
def upvote(request: HttpRequest, paper_id: str):
    return _change_vote(request, paper_id, votes.upvote)


@api.delete("/papers/{path:paper_id}/upvote", auth=BearerToken(), **documented({200: schemas.VoteOut}, *WRITE_ERRORS),
            summary="Take back")
def take_back_upvote(request: HttpRequest, paper_id: str):
    return _change_vote(request, paper_id, votes.unvote)


@api.get("/papers/{path:paper_id}/comments", **documented({200: list[schemas.CommentOut]}, 400, 404),
         summary="Comments, oldest first")
def list_comments(request: HttpRequest, paper_id: str):
    paper = _paper_or_404(paper_id)
    return json_response([comments.comment_json(c) for c in comments.thread(paper)])


@api.post("/papers/{path:paper_id}/comments", auth=BearerToken(), **documented({201: schemas.CommentOut}, *WRITE_ERRORS),
          summary="Comment")
def post_comment(request: HttpRequest, paper_id: str, body: schemas.CommentIn):
    user = _writer(request, "comment")
    paper = _paper_or_404(paper_id)
    parent = None
    if body.parentId is not None:
        parent = Comment.objects.filter(pk=int(body.parentId), paper=paper).first()
        if parent is None:
            raise ApiError(404, "not_found", f"comment {body.parentId} not found on paper {paper.arxiv_id}")
    comment = comments.post(user, paper, body.body, parent=parent)
    return json_response(comments.comment_json(comment), status=201)


class SimilarPaper(schemas.Paper):
    similarity: float = Field(description="cosine similarity of the title-and-abstract embeddings")


@api.get("/papers/{path:paper_id}/similar", **documented({200: list[SimilarPaper]}, 400, 404),
         summary="Papers similar to this one")
def similar_papers(
    request: HttpRequest,
    paper_id: str,
    limit: int = Query(10, ge=1, le=50, description="how many (1-50)"),
):
    """Nearest neighbours of the paper's title-and-abstract embedding (see docs/search.md), best first;
    the paper itself and hidden papers are left out. A paper not yet indexed is embedded on the fly."""
    def build() -> HttpResponse:
        paper = _paper_or_404(paper_id)
        items = service.similar(paper, limit)
        return json_response([{**shapes.paper_json(p), "similarity": round(p.similarity, 6)} for p in items])

    return caching.cached_response(request, build)


@api.get("/papers/search", **documented({200: list[schemas.SearchResult]}, 400), summary="Search papers")
def search_papers(
    request: HttpRequest,
    q: str = Query(..., min_length=1, max_length=500, description="words, \"phrases\", -exclusions, author:, cat:, after:, before:, year:, has:code (docs/search.md)"),
    limit: int = Query(20, ge=1, le=120, description="how many results (1-120)"),
    sort: Literal["relevance", "newest", "upvotes"] = Query("relevance", description="relevance (default), newest or upvotes"),
    mode: Literal["hybrid", "lexical", "semantic"] = Query("hybrid", description="ranking: hybrid (default), lexical (words only) or semantic (meaning only); not in Hugging Face's API"),
):
    """Hugging Face's `GET /api/papers/search` (`HfApi.list_papers(query=...)`): daily-item-shaped results
    (`paper`, `title`, `summary`, ...), best first; `publishedAt` is when the paper went on the feed (null
    when it never did). An arXiv id or URL as `q` returns that paper."""
    return caching.cached_response(request, lambda: json_response(service.api_items(q, limit, sort, mode)))


# Registered last: its {path:…} pattern would otherwise swallow /papers/{id}/comments and friends.
@api.get("/papers/{path:paper_id}", **documented({200: schemas.Paper}, 400, 404), summary="One paper by arXiv id")
def paper_info(request: HttpRequest, paper_id: str):
    def build() -> HttpResponse:
        paper = _paper_or_404(paper_id)
        return json_response(shapes.paper_json(paper, paper.feed_submission))

    return caching.cached_response(request, build)
