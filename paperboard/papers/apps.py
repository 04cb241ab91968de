from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "paperboard.papers"
    label = "papers"
