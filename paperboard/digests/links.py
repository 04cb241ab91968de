"""Signed links in digest mails: no login, nothing stored.

A *manage* token (preferences, preview, unsubscribe) names the subscription and a fingerprint of its
address and never expires: it sits in every digest, and mails are read weeks later. A *confirm* token is
timestamped and works for CONFIRM_MAX_AGE. A tampered or foreign token names nobody (None), never raises.
"""

from __future__ import annotations

import hashlib

from django.core import signing

from paperboard.digests.models import Subscription

MANAGE_SALT = "paperboard.digest.manage"
CONFIRM_SALT = "paperboard.digest.confirm"
CONFIRM_MAX_AGE = 7 * 24 * 3600  # seconds


def _tag(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def _payload(subscription: Subscription) -> dict:
    return {"s": subscription.pk, "e": _tag(subscription.email)}


def _subscription(data) -> Subscription | None:
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        return None
    subscription = Subscription.objects.select_related("user").filter(pk=data["s"]).first()
    if subscription is None or _tag(subscription.email) != data.get("e"):
        return None
    return subscription


def manage_token(subscription: Subscription) -> str:
    return signing.Signer(salt=MANAGE_SALT).sign_object(_payload(subscription))


def from_manage_token(token: str) -> Subscription | None:
    try:
        data = signing.Signer(salt=MANAGE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        return None
    return _subscription(data)


def confirm_token(subscription: Subscription) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign_object(_payload(subscription))


def from_confirm_token(token: str) -> Subscription | None:
    try:
        data = signing.TimestampSigner(salt=CONFIRM_SALT).unsign_object(token, max_age=CONFIRM_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        return None
    return _subscription(data)


def preferences_path(subscription: Subscription) -> str:
    return f"/digest/preferences/{manage_token(subscription)}"


def preview_path(subscription: Subscription) -> str:
    return f"/digest/preview/{manage_token(subscription)}"


def unsubscribe_path(subscription: Subscription) -> str:
    return f"/digest/unsubscribe/{manage_token(subscription)}"


def confirm_path(subscription: Subscription) -> str:
    return f"/digest/confirm/{confirm_token(subscription)}"
