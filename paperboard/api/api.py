"""The JSON API, shaped like Hugging Face's papers API (`/api/daily_papers`, `/api/papers/{id}`, ...).

Errors are JSON `{"error": reason, "code": machine_code}` with the right HTTP status.
Handlers return prebuilt JSON (no per-item schema validation on the hot path); the schemas below
document the shapes in the OpenAPI schema at /api/openapi.json.
"""

from __future__ import annotations

import base64
import json
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Query
from ninja.errors import HttpError, ValidationError

from paperboard.api import schemas, shapes
from paperboard.ingest import ids
from paperboard.papers import caching, periods, queries

api = NinjaAPI(
    title="Paperboard API",
    version="1",
    description="Daily papers, shaped like the Hugging Face papers API. Reads are anonymous.",
    urls_namespace="api",
)


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


@api.get("/daily_papers", response=list[schemas.DailyPaper], summary="Papers on the daily feed")
def daily_papers(
    request: HttpRequest,
    p: int = Query(0, ge=0, le=10_000, description="page number, from 0"),
    limit: int = Query(50, ge=1, le=100, description="items per page (1-100)"),
    date: str | None = Query(None, description="a day, YYYY-MM-DD"),
    week: str | None = Query(None, description="an ISO week, YYYY-Www"),
    month: str | None = Query(None, description="a month, YYYY-MM"),
    submitter: str | None = Query(None, description="username of the submitter"),
    sort: Literal["publishedAt", "trending"] | None = Query(
        None, description="publishedAt: newest on the feed first; trending: see /docs/ranking; default: upvotes"
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


@api.get("/papers", response=list[schemas.Paper], summary="All papers, cursor-paged")
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
            response["Link"] = f'<{request.build_absolute_uri("/api/papers")}?cursor={token}&limit={limit}>; rel="next"'
        return response

    return caching.cached_response(request, build)


@api.get("/papers/{path:paper_id}", response=schemas.Paper, summary="One paper by arXiv id")
def paper_info(request: HttpRequest, paper_id: str):
    def build() -> HttpResponse:
        paper = _paper_or_404(paper_id)
        return json_response(shapes.paper_json(paper, paper.feed_submission))

    return caching.cached_response(request, build)
