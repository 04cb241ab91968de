from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "paperboard.digests"
    label = "digests"
    verbose_name = "Email digests"

    def ready(self) -> None:
        from paperboard.accounts import sections  # lazy: AppConfig.ready, once models can be imported
        from paperboard.digests import subscriptions  # lazy: as above

        sections.SETTINGS.append(subscriptions.settings_section)
