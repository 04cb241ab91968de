"""Helpers every view shares.

Client address: `client_ip(request)` is the address rate limits and `/metrics` judge a request by. The direct
peer (`REMOTE_ADDR`) is the client unless it is one of `PAPERBOARD_TRUSTED_PROXIES`; then `X-Forwarded-For`
is walked from the right, past the trusted proxies, and the first address that is not trusted is the client.
Entries left of it were written by the client itself and are never believed.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

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
