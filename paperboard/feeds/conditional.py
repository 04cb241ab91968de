"""Conditional GET for feeds: validators derived from the feed itself, and the 304 answer.

ETag: a hash of the body and of each item's upvotes (the views rank by them, so a vote that moves no
paper still changes the tag). Last-Modified: the feed's `updated` (items.py), which a new upvote, a
new paper or a changed one moves on. `If-None-Match` wins over `If-Modified-Since` when both are sent
(RFC 9110); either answers 304 with no body when the reader's copy is current.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date

from paperboard.feeds.items import Feed


def etag(body: bytes, feed: Feed) -> str:
    digest = hashlib.sha256(body)
    for item in feed.items:
        digest.update(f"\n{item.id} {item.upvotes}".encode())
    return f'"{digest.hexdigest()[:32]}"'


def stamp(response: HttpResponse, feed: Feed) -> HttpResponse:
    """Set ETag and Last-Modified on a feed response."""
    response["ETag"] = etag(response.content, feed)
    response["Last-Modified"] = http_date(feed.updated.timestamp())
    return response


def answer(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """304 Not Modified when the reader's copy is current, else `response` itself."""
    if response.status_code != 200 or not response.has_header("ETag"):
        return response
    return get_conditional_response(
        request,
        etag=response["ETag"],
        last_modified=parse_http_date(response["Last-Modified"]),
        response=response,
    )
