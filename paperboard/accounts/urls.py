"""Account routes: /accounts/… and public profiles at /u/<username> (and .json)."""

from django.urls import path, re_path

from paperboard.accounts import views

urlpatterns = [
    path("accounts/signup", views.signup, name="signup"),
    path("accounts/confirm", views.confirm_resend, name="confirm-resend"),
    path("accounts/confirm/<str:token>", views.confirm, name="confirm"),
    path("accounts/login", views.login_view, name="login"),
    path("accounts/logout", views.logout_view, name="logout"),
    path("accounts/password-reset", views.password_reset, name="password_reset"),
    path("accounts/password-reset/sent", views.password_reset_done, name="password_reset_done"),
    path("accounts/password-reset/done", views.password_reset_complete, name="password_reset_complete"),
    path("accounts/password-reset/<uidb64>/<token>", views.password_reset_confirm, name="password_reset_confirm"),
    path("accounts/password-change", views.password_change, name="password_change"),
    path("accounts/settings", views.settings_view, name="settings"),
    path("accounts/settings/tokens", views.token_create, name="token-create"),
    path("accounts/settings/tokens/<int:pk>/revoke", views.token_revoke, name="token-revoke"),
    path("accounts/delete", views.delete_account, name="delete-account"),
    re_path(r"^u/(?P<username>[\w.@+-]+?)(?P<fmt>\.json)?$", views.profile_page, name="profile"),
]
