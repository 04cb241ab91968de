from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "paperboard.accounts"
    label = "accounts"

    def ready(self):
        # lazy: models exist only once the app registry is ready, which is when ready() runs
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_delete

        from paperboard.accounts.deletion import take_votes_out
        from paperboard.accounts.models import Profile
        from paperboard.papers import freshness

        pre_delete.connect(take_votes_out, sender=get_user_model(), dispatch_uid="paperboard-take-votes-out")
        # Names show on feed pages ("submitted by") and in API answers; a login's last_login does not.
        freshness.watch(get_user_model(), fields=("username", "first_name", "last_name", "is_active"))
        freshness.watch(Profile, fields=("bio",))
