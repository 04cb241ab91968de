"""Subscribing, confirming, changing preferences, unsubscribing and suppression: every change of a
Subscription's state goes through here (views, admin and sending use these, never raw updates)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from paperboard import ratelimit
from paperboard.accounts.status import is_confirmed
from paperboard.digests import links, preferences, schedule
from paperboard.digests.models import Subscription
from paperboard.mail import messages as mail

log = logging.getLogger(__name__)
MAIL_ROOT = "digests/email"


def normalise(email: str) -> str:
    return (email or "").strip().lower()


def _mail_allowed(email: str) -> bool:
    try:
        ratelimit.hit("digest-mail", email)
    except ratelimit.RateLimited:
        log.info("digest confirmation mail to an address over its daily limit not sent")
        return False
    return True


def request(email: str) -> None:
    """Somebody asked, on the public form, for digests at `email`. Whatever the state of the address, the
    caller shows the same page: only the mailbox learns whether it was subscribed already."""
    email = normalise(email)
    subscription = Subscription.objects.filter(email=email).first()
    if subscription is None:
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(email=email)
        except IntegrityError:  # the same address, submitted twice at once
            subscription = Subscription.objects.get(email=email)
    if subscription.suppressed_at is not None or not _mail_allowed(email):
        return  # mail to it bounced for good: send nothing more
    if subscription.active:
        context = {"preferences_path": links.preferences_path(subscription)}
        mail.send(f"{MAIL_ROOT}/already", email, context)
    else:
        context = {"confirm_path": links.confirm_path(subscription), "max_age_days": links.CONFIRM_MAX_AGE // 86400}
        mail.send(f"{MAIL_ROOT}/confirm", email, context)


def confirm(subscription: Subscription, now: dt.datetime | None = None) -> Subscription:
    """The address owner confirmed (or re-confirmed after unsubscribing): digests start at the next send time."""
    now = now or timezone.now()
    if subscription.active:
        return subscription
    subscription.confirmed_at = now
    subscription.unsubscribed_at = None
    subscription.next_due_at = schedule.next_slot(subscription.frequency, now)
    subscription.save(update_fields=["confirmed_at", "unsubscribed_at", "next_due_at"])
    return subscription


def for_account(user, now: dt.datetime | None = None) -> Subscription:
    """Subscribe a logged-in user's confirmed address (the account proves it: no confirmation mail). An
    earlier subscription of the same address, made without logging in, becomes the account's."""
    email = normalise(user.email)
    with transaction.atomic():
        Subscription.objects.filter(user=user).exclude(email=email).update(user=None)
        subscription = Subscription.objects.select_for_update().filter(email=email).first()
        if subscription is None:
            subscription = Subscription.objects.create(
                email=email, user=user, preferences=preferences.Preferences(sections=preferences.ACCOUNT_SECTIONS).to_json()
            )
        elif subscription.user_id != user.pk:
            subscription.user = user
            subscription.save(update_fields=["user"])
        return confirm(subscription, now)


def of_account(user) -> Subscription | None:
    """The subscription of the user's current address, if they have one."""
    return Subscription.objects.filter(user=user, email=normalise(user.email)).first()


def update(subscription: Subscription, frequency: str, prefs: preferences.Preferences, paused: bool,
           now: dt.datetime | None = None) -> Subscription:
    """Save new preferences. A new frequency, or the end of a pause, moves the next digest to the next send
    time of the (new) frequency: no digest is sent at once for a pause that just ended."""
    now = now or timezone.now()
    fields = ["frequency", "preferences", "paused"]
    if subscription.active and (frequency != subscription.frequency or (subscription.paused and not paused)):
        subscription.next_due_at = schedule.next_slot(frequency, now)
        fields.append("next_due_at")
    subscription.frequency, subscription.preferences, subscription.paused = frequency, prefs.to_json(), paused
    subscription.save(update_fields=fields)
    return subscription


def unsubscribe(subscription: Subscription, now: dt.datetime | None = None) -> bool:
    """Stop digests at once; returns True when it was subscribed. A digest already being sent is not recalled."""
    now = now or timezone.now()
    changed = Subscription.objects.filter(pk=subscription.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now, next_due_at=None
    )
    subscription.refresh_from_db()
    return bool(changed)


def record_permanent_failure(subscription_id: int, reason: str, now: dt.datetime) -> bool:
    """Count one permanent failure; suppress the address at PAPERBOARD_DIGEST_MAX_FAILURES in a row.
    Returns True when this failure suppressed it."""
    Subscription.objects.filter(pk=subscription_id).update(failures=F("failures") + 1)
    suppressed = Subscription.objects.filter(
        pk=subscription_id, suppressed_at__isnull=True, failures__gte=settings.PAPERBOARD_DIGEST_MAX_FAILURES
    ).update(suppressed_at=now, suppression_reason=reason[:1000], next_due_at=None)
    return bool(suppressed)


def lift_suppression(subscription: Subscription, now: dt.datetime | None = None) -> None:
    """An admin decided the address works again: digests resume at the next send time."""
    now = now or timezone.now()
    subscription.suppressed_at, subscription.suppression_reason, subscription.failures = None, "", 0
    fields = ["suppressed_at", "suppression_reason", "failures"]
    if subscription.confirmed and subscription.unsubscribed_at is None:
        subscription.next_due_at = schedule.next_slot(subscription.frequency, now)
        fields.append("next_due_at")
    subscription.save(update_fields=fields)


def settings_section(request, user) -> dict:
    """The email digest part of the account settings page (digests/_settings.html): `digest`."""
    subscription = of_account(user)
    return {"digest": {
        "subscription": subscription,
        "confirmed": is_confirmed(user),
        "preferences_path": links.preferences_path(subscription) if subscription else "",
        "preview_path": links.preview_path(subscription) if subscription else "",
    }}
