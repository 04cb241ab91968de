"""Sections that features above accounts add to the account pages: collections on the public profile
(community), the email digest on the settings page (digests).

A feature registers a provider, `provider(request, user) -> dict`, in its AppConfig.ready(); the page's view
merges what every provider returns into its context, so the queries run in the view and the section's
template only formats. `user` is the profile's owner on the profile page, the account itself on settings.
"""

from __future__ import annotations

from django.http import HttpRequest

from paperboard.papers.sections import Provider, merged

PROFILE: list[Provider] = []
SETTINGS: list[Provider] = []


def context(providers: list[Provider], request: HttpRequest, user) -> dict:
    return merged(providers, request, user)
