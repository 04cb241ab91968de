from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "paperboard.jobs"
    label = "jobs"
    verbose_name = "Scheduled jobs"
