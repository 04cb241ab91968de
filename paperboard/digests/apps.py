from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "paperboard.digests"
    label = "digests"
    verbose_name = "Email digests"

    def ready(self) -> None:
        from paperboard.accounts import sections
        from paperboard.digests import views

        sections.SETTINGS.append(views.settings_section)
