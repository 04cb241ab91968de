from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "paperboard.search"
    label = "search"

    def ready(self):
        # lazy: receivers import models, which exist only once the app registry is ready
        from paperboard.papers import sections  # lazy: as above
        from paperboard.search import (
            receivers,  # noqa: F401
            service,  # lazy: as above
        )

        sections.PAPER.append(service.similar_section)
