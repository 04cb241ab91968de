"""Refuse requests carrying text no database can store, before any view runs.

A NUL character or a lone surrogate in a query parameter, a form field (name or value) or a string of a
JSON body is answered 400: JSON `{"error": …, "code": "bad_request"}` for the API and other JSON answers,
a short page elsewhere. No view then has to remember that PostgreSQL refuses NUL in text (it used to be a
500 there). The path itself is not checked: routes only match what they expect, the rest is a 404.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from paperboard.safetext import is_storable

MESSAGE = "The request contains a NUL character or invalid Unicode text; remove it and try again."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseUnstorableText:
    """Middleware: a 400 for a request whose parameters, form fields or JSON body hold unstorable text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not all(is_storable(text) for text in _texts(request)):
            return refusal(request)
        return self.get_response(request)


def _texts(request: HttpRequest) -> Iterator[str]:
    yield from _pairs(request.GET)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.content_type in FORM_TYPES:
        yield from _pairs(request.POST)
    elif request.body:
        try:
            data = json.loads(request.body)
        except ValueError:  # not JSON (or not UTF-8): the view refuses it as it always did
            return
        yield from _strings(data)


def _pairs(params) -> Iterator[str]:
    for key, values in params.lists():
        yield key
        yield from values


def _strings(data) -> Iterator[str]:
    """Every string in a decoded JSON document, keys included."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack += item.keys()
            stack += item.values()
        elif isinstance(item, list):
            stack += item


def wants_json(request: HttpRequest) -> bool:
    path = request.path
    return (path.startswith("/api/") or path.endswith(".json") or request.GET.get("format") == "json"
            or "application/json" in request.headers.get("Accept", ""))


def refusal(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        body = json.dumps({"error": MESSAGE, "code": "bad_request"})
        return HttpResponse(body, status=400, content_type="application/json")
    return render(request, "papers/error.html", {"message": MESSAGE}, status=400)


__all__ = ["RefuseUnstorableText", "refusal", "wants_json", "MESSAGE"]
