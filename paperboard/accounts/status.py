"""Who may write: one place that says whether an account may act, and why not."""

from __future__ import annotations

from paperboard.accounts.models import profile_of
from paperboard.community.errors import Refused


def check_can_write(user) -> None:
    """Raise Refused unless `user` is logged in, active and not banned."""
    if user is None or not user.is_authenticated:
        raise Refused("login_required", "log in first", 401)
    if not user.is_active:
        raise Refused("inactive", "this account is inactive", 403)
    if profile_of(user).banned:
        raise Refused("banned", "this account is banned", 403)


def is_confirmed(user) -> bool:
    return bool(user.is_authenticated and profile_of(user).confirmed)
