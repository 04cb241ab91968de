"""Who may write: one place that says whether an account may act, and why not.

`check_can_write(user)` is the check; every write calls it — the community actions in their own modules
(so the web pages and the API share it), and the account, digest and "for you" pages through the
`writer_required` view decorator. What stays open to a banned account, on purpose: logging out, changing
the password, revoking its API tokens, deleting the account, and the mailed links that stop digests."""

from __future__ import annotations

import functools

from paperboard.accounts.models import profile_of
from paperboard.errors import Refused
from paperboard.web import refused_response

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def check_can_write(user) -> None:
    """Raise Refused unless `user` is logged in, active and not banned."""
    if user is None or not user.is_authenticated:
        raise Refused("login_required", "log in first", 401)
    if not user.is_active:
        raise Refused("inactive", "this account is inactive", 403)
    if profile_of(user).banned:
        raise Refused("banned", "this account is banned", 403)


def writer_required(view):
    """Decorate a view whose POSTs write as `request.user`: they run only for accounts that may write.
    Others get the refusal every write gets (403 page, htmx text or JSON `{"error", "code": "banned"}`;
    not logged in: the log-in page). Reading (GET, HEAD) is not checked."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            try:
                check_can_write(request.user)
            except Refused as exc:
                return refused_response(request, exc, request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def is_confirmed(user) -> bool:
    return bool(user.is_authenticated and profile_of(user).confirmed)
