"""Bearer-token authentication for the write API: `Authorization: Bearer <token>`."""

from __future__ import annotations

from django.http import HttpRequest

from paperboard.accounts.models import ApiToken

MAX_TOKEN_LENGTH = 200  # ours are 46 characters; anything much longer is not one of ours


def bearer_token(request: HttpRequest) -> str | None:
    """The token in the request's `Authorization: Bearer …` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH or " " in token:
        return None
    return token


def user_from_request(request: HttpRequest):
    """The user a valid bearer token belongs to; None for a missing, malformed, unknown or revoked token
    and for tokens of inactive accounts. Records the token's time of use.

    A banned user's token still names its user: writers call `accounts.status.check_can_write`, which
    refuses banned accounts with a clear 403 "banned" instead of a bare 401."""
    token = bearer_token(request)
    if token is None:
        return None
    return ApiToken.user_for(token)
