from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "paperboard.demo"
    label = "demo"
