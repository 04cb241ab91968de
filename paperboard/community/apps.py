from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperboard.community"
    label = "community"
