"""Digest routes, all under /digest/ (included from paperboard/urls.py)."""

from django.urls import path

from paperboard.digests import outbox, views

urlpatterns = [
    path("digest/subscribe", views.subscribe, name="digest-subscribe"),
    path("digest/subscribe/account", views.subscribe_account, name="digest-subscribe-account"),
    path("digest/confirm/<str:token>", views.confirm, name="digest-confirm"),
    path("digest/preferences/<str:token>", views.preferences, name="digest-preferences"),
    path("digest/preview/<str:token>", views.preview, name="digest-preview"),
    path("digest/unsubscribe/<str:token>", views.unsubscribe, name="digest-unsubscribe"),
    path("digest/outbox", outbox.index, name="digest-outbox"),
    path("digest/outbox/<str:name>", outbox.show, name="digest-outbox-file"),
    path("digest/outbox/<str:name>/html", outbox.show_html, name="digest-outbox-html"),
]
