"""Email confirmation: signed, time-limited links and the mails that carry them."""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from paperboard.accounts import emails
from paperboard.accounts.models import profile_of

SALT = "paperboard.confirm"
MAX_AGE = 3 * 24 * 3600  # seconds: a confirmation link works for three days


def _address_tag(email: str) -> str:
    """A short fingerprint of the address: the link must not carry the address itself."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:16]


def make_token(user) -> str:
    """A signed token naming the user and (by fingerprint) the address; a new address invalidates it."""
    return signing.TimestampSigner(salt=SALT).sign_object({"u": user.pk, "e": _address_tag(user.email)})


def user_for_token(token: str, max_age: int = MAX_AGE):
    """The user whose address `token` confirms, or None for a bad, expired or outdated token."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or _address_tag(user.email) != data.get("e"):
        return None
    return user


def confirm_url(user) -> str:
    return f"/accounts/confirm/{make_token(user)}"


def mark_confirmed(user) -> bool:
    """Record the confirmation; returns True when it was not confirmed before."""
    profile = profile_of(user)
    if profile.email_confirmed_at is not None:
        return False
    profile.email_confirmed_at = timezone.now()
    profile.save(update_fields=["email_confirmed_at"])
    return True


def send_confirmation(user) -> bool:
    context = {"user": user, "confirm_path": confirm_url(user), "max_age_days": MAX_AGE // 86400}
    return emails.send("confirm", user.email, context)


def reset_path(user) -> str:
    """A direct password-reset link for `user` (Django's reset token, one use)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/accounts/password-reset/{uid}/{default_token_generator.make_token(user)}"


def send_signup_exists(user) -> bool:
    """Tell the owner of an address that somebody tried to sign up with it."""
    return emails.send("signup_exists", user.email, {"user": user, "reset_path": reset_path(user)})
