from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "paperboard.ops"
    label = "ops"
    verbose_name = "Operations"
