from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperboard.community"
    label = "community"

    def ready(self) -> None:
        from paperboard.accounts import sections  # lazy: AppConfig.ready, once models can be imported
        from paperboard.community import collections  # lazy: as above

        sections.PROFILE.append(collections.profile_section)
