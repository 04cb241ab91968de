from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperboard.community"
    label = "community"

    def ready(self) -> None:
        from paperboard.accounts import sections
        from paperboard.community import collections

        sections.PROFILE.append(collections.profile_section)
