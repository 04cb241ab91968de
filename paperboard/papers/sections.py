"""Sections that apps above `papers` add to the paper page (similar papers, from search).

An app registers a provider, `provider(request, paper) -> dict`, in its AppConfig.ready(); the paper page's
view merges what every provider returns into its context, so the section's queries run in the view and its
template only formats. The same pattern as `accounts/sections.py` for the account pages.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

Provider = Callable[[HttpRequest, object], dict]

PAPER: list[Provider] = []


def merged(providers: list[Provider], request: HttpRequest, subject) -> dict:
    """What every provider returns for `subject`, in one dict (later providers win on a shared key)."""
    out: dict = {}
    for provider in providers:
        out.update(provider(request, subject))
    return out


def context(request: HttpRequest, paper) -> dict:
    return merged(PAPER, request, paper)
