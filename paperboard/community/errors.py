"""Refusals of community actions: a machine-readable code, a message for people, an HTTP status, and the
one answer every page gives to a refusal (JSON, htmx text, or the error page)."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status

    def as_json(self) -> dict:
        return {"error": self.message, "code": self.code}


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") and not is_htmx(request)


def login_redirect(request: HttpRequest, next_url: str) -> HttpResponse:
    """Not logged in: the log-in page with `next` (401 with `HX-Redirect` for htmx, JSON 401 for JSON)."""
    url = f"{settings.LOGIN_URL}?next={quote(next_url, safe='/')}"
    if is_htmx(request):
        response = HttpResponse("log in first", status=401, content_type="text/plain; charset=utf-8")
        response["HX-Redirect"] = url
        return response
    if wants_json(request):
        return JsonResponse({"error": "log in first", "code": "login_required"}, status=401)
    return redirect(url)


def refused_response(request: HttpRequest, exc: Refused, next_url: str) -> HttpResponse:
    """The answer to a refusal that is not an input problem (401, 403, 404, …)."""
    if exc.status == 401:
        return login_redirect(request, next_url)
    if wants_json(request):
        return JsonResponse(exc.as_json(), status=exc.status)
    if is_htmx(request):
        response = HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
        response["HX-Reswap"] = "none"
        return response
    return render(request, "papers/error.html", {"message": exc.message}, status=exc.status)
