"""Template helpers for digests: author lists in mails, and the digest section of the settings page."""

from __future__ import annotations

from django import template

from paperboard.accounts.status import is_confirmed
from paperboard.digests import links, subscriptions

register = template.Library()

MAX_AUTHORS = 3


@register.filter
def authors(names) -> str:
    """`A, B, C et al.` for more than MAX_AUTHORS names."""
    names = list(names or [])
    shown = ", ".join(names[:MAX_AUTHORS])
    return f"{shown} et al." if len(names) > MAX_AUTHORS else shown


@register.inclusion_tag("digests/_settings.html", takes_context=True)
def digest_settings(context) -> dict:
    user = context["user"]
    subscription = subscriptions.of_account(user)
    return {
        "user": user,
        "subscription": subscription,
        "confirmed": is_confirmed(user),
        "csrf_token": context.get("csrf_token"),
        "preferences_path": links.preferences_path(subscription) if subscription else "",
        "preview_path": links.preview_path(subscription) if subscription else "",
    }
