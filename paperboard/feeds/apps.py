from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """An app so that its template tags (`{% load feed_links %}`) are found; it has no models."""

    name = "paperboard.feeds"
    label = "feeds"
