from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "paperboard.search"
    label = "search"
