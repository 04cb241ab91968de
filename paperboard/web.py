"""Helpers every view shares.

Client address: `client_ip(request)` is the address rate limits and `/metrics` judge a request by. The direct
peer (`REMOTE_ADDR`) is the client unless it is one of `PAPERBOARD_TRUSTED_PROXIES`; then `X-Forwarded-For`
is walked from the right, past the trusted proxies, and the first address that is not trusted is the client.
Entries left of it were written by the client itself and are never believed.

Refusals: `refused_response(request, exc, next_url)` is the one answer every page gives to a `Refused`
(JSON, htmx text, or the error page); `login_redirect` the one to a visitor who must log in first.
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from paperboard.errors import Refused

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _trusted(address: Address) -> bool:
    return any(address in network for network in _networks(tuple(settings.PAPERBOARD_TRUSTED_PROXIES)))


def _address(text: str) -> Address | None:
    """`1.2.3.4`, `2001:db8::1`, `[2001:db8::1]:443`, `1.2.3.4:80`; IPv4-mapped IPv6 as IPv4; else None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port; IPv6 has at least two colons
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the direct peer is one of PAPERBOARD_TRUSTED_PROXIES (whose forwarding headers are believed)."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    return peer is not None and _trusted(peer)


def client_ip(request: HttpRequest) -> str:
    """The client's address, normalised (the raw REMOTE_ADDR, or "unknown", when that is no address)."""
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return request.META.get("REMOTE_ADDR") or "unknown"
    client = peer
    if _trusted(peer):
        for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            hop = _address(entry)
            if hop is None:  # garbage (or nothing): stay at the last address a trusted proxy vouched for
                break
            client = hop
            if not _trusted(hop):
                break
    return str(client)


MAX_PAGE = 10_000  # `?p=` beyond this is read as this (an empty page): the offset stays a database integer


def page_number(request: HttpRequest) -> int:
    """`?p=` as a page index, 0..MAX_PAGE; 0 when it is not a number."""
    try:
        return min(max(0, int(request.GET.get("p", "0"))), MAX_PAGE)
    except ValueError:
        return 0


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
