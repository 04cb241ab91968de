"""Template helpers for digests: author lists in mails."""

from __future__ import annotations

from django import template

register = template.Library()

MAX_AUTHORS = 3


@register.filter
def authors(names) -> str:
    """`A, B, C et al.` for more than MAX_AUTHORS names."""
    names = list(names or [])
    shown = ", ".join(names[:MAX_AUTHORS])
    return f"{shown} et al." if len(names) > MAX_AUTHORS else shown
