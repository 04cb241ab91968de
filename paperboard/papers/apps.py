from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "paperboard.papers"
    label = "papers"

    def ready(self):
        from paperboard.papers import freshness  # lazy: AppConfig.ready, once models can be imported
        from paperboard.papers.models import Paper, PaperAuthor, PaperCategory, Submission, Vote  # lazy: as above

        for model in (Paper, PaperAuthor, PaperCategory, Submission, Vote):
            freshness.watch(model)
