"""The digest mail: HTML with inline styles (no remote images) and a plain-text alternative, with the
one-click unsubscribe headers of RFC 8058 and a Message-ID that stays the same for every try of a digest."""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from paperboard.accounts import emails
from paperboard.digests import links
from paperboard.digests.content import Digest
from paperboard.digests.models import Delivery, Subscription

ROOT = "digests/email"
KIND = {"weekdays": "weekday", "daily": "daily", "weekly": "weekly"}  # "your weekday digest"


def context(subscription: Subscription, digest: Digest, period_label: str = "") -> dict:
    base = settings.BASE_URL
    return {
        "subscription": subscription,
        "digest": digest,
        "period_label": period_label,
        "frequency_label": KIND.get(subscription.frequency, "email"),
        "preferences_url": base + links.preferences_path(subscription),
        "preview_url": base + links.preview_path(subscription),
        "unsubscribe_url": base + links.unsubscribe_path(subscription),
        "base_url": base,
        "site_name": emails.SITE_NAME,
    }


def _host() -> str:
    return urlsplit(settings.BASE_URL).hostname or "localhost"


def build(subscription: Subscription, digest: Digest, delivery: Delivery | None = None) -> EmailMultiAlternatives:
    period = delivery.period_key if delivery is not None else ""
    ctx = context(subscription, digest, period)
    message = emails.build("digest", subscription.email, ctx, root=ROOT)
    mailbox = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or f"noreply@{_host()}"
    message.extra_headers.update(
        {
            "List-Unsubscribe": f"<{ctx['unsubscribe_url']}>, <mailto:{mailbox}?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{emails.SITE_NAME} digest <digest.{_host()}>",
            "Auto-Submitted": "auto-generated",
        }
    )
    if delivery is not None:
        message.extra_headers["Message-ID"] = f"<digest.{delivery.pk}.{delivery.period_key}@{_host()}>"
    return message


def preview_html(subscription: Subscription, digest: Digest) -> str:
    """The digest's HTML as a web page (the preview shows exactly what the mail would)."""
    ctx = {**context(subscription, digest), "preview": True}
    return render_to_string(f"{ROOT}/digest/body.html", ctx)
