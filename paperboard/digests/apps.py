from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "paperboard.digests"
    label = "digests"
    verbose_name = "Email digests"
