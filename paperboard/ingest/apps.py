from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "paperboard.ingest"
    label = "ingest"
