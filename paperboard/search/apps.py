from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "paperboard.search"
    label = "search"

    def ready(self):
        # lazy: receivers import models, which exist only once the app registry is ready
        from paperboard.search import receivers  # noqa: F401
