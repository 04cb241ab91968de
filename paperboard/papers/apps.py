from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "paperboard.papers"
    label = "papers"

    def ready(self):
        from paperboard.papers import freshness
        from paperboard.papers.models import Paper, PaperAuthor, PaperCategory, Submission, Vote

        for model in (Paper, PaperAuthor, PaperCategory, Submission, Vote):
            freshness.watch(model)
