from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "paperboard.accounts"
    label = "accounts"
