"""Email confirmation: signed, time-limited, single-use links and the mails that carry them.

A link is good once, for MAX_AGE, and only while the account's password and address are those it was made
for. It logs in only the browser that signed up (SIGNUP_SESSION_KEY in that session): anywhere else it
confirms the address and the reader logs in with the password."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from paperboard.accounts.models import profile_of
from paperboard.mail import messages as mail

SALT = "paperboard.confirm"
MAX_AGE = 3 * 24 * 3600  # seconds: a confirmation link works for three days
SIGNUP_SESSION_KEY = "signup_user"  # the session of the browser that signed up: which user it created

VALID, USED = "valid", "used"


def _state(user, confirmed: bool) -> str:
    """A salted HMAC (keyed with the secret key) of the account state a link is bound to: user id, password
    hash, address and whether it is confirmed. Confirming (one use), a new password or a new address change it."""
    value = f"{user.pk}|{user.password}|{(user.email or '').strip().lower()}|{int(confirmed)}"
    return salted_hmac(SALT, value, algorithm="sha256").hexdigest()[:32]


def make_token(user) -> str:
    """A signed, timestamped token naming the user and the state of the account it was made for."""
    return signing.TimestampSigner(salt=SALT).sign_object(
        {"u": user.pk, "s": _state(user, profile_of(user).confirmed)}
    )


def check_token(token: str, max_age: int = MAX_AGE):
    """(VALID, user) for a link that may confirm now; (USED, user) for a link whose address was confirmed
    since (password and address unchanged); None for a bad, expired or outdated one."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        return None
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None:
        return None
    confirmed = profile_of(user).confirmed
    if constant_time_compare(data["s"], _state(user, confirmed)):
        return (USED, user) if confirmed else (VALID, user)
    if confirmed and constant_time_compare(data["s"], _state(user, False)):
        return USED, user
    return None


def user_for_token(token: str, max_age: int = MAX_AGE):
    """The user whose address `token` may confirm now, or None (bad, expired, used or outdated)."""
    found = check_token(token, max_age)
    return found[1] if found and found[0] == VALID else None


def confirm_url(user) -> str:
    return f"/accounts/confirm/{make_token(user)}"


def mark_confirmed(user) -> bool:
    """Record the confirmation; returns True when it was not confirmed before. Of two requests at once
    only one gets True: the link is used once."""
    profile = profile_of(user)
    now = timezone.now()
    changed = type(profile).objects.filter(pk=profile.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=now
    )
    profile.refresh_from_db(fields=["email_confirmed_at"])
    return bool(changed)


def send_confirmation(user) -> bool:
    context = {"user": user, "confirm_path": confirm_url(user), "max_age_days": MAX_AGE // 86400}
    return mail.send("accounts/email/confirm", user.email, context)


def reset_path(user) -> str:
    """A direct password-reset link for `user` (Django's reset token, one use)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/accounts/password-reset/{uid}/{default_token_generator.make_token(user)}"


def send_signup_exists(user) -> bool:
    """Tell the owner of an address that somebody tried to sign up with it."""
    return mail.send("accounts/email/signup_exists", user.email, {"user": user, "reset_path": reset_path(user)})
