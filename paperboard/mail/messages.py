"""Templated mails: one folder of templates per mail, sent as text plus a simple HTML alternative.

`templates/<prefix>/{subject.txt,body.txt,body.html}`, e.g. `accounts/email/confirm` or
`digests/email/digest`; every template gets `base_url` (settings.BASE_URL, so links are absolute) and
`site_name` besides the caller's context (which may set either itself).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger("paperboard.mail")

SITE_NAME = "Paperboard"


@dataclass(frozen=True)
class Rendered:
    subject: str  # one line
    text: str
    html: str


def render_message(template_prefix: str, context: dict) -> Rendered:
    ctx = {"base_url": settings.BASE_URL, "site_name": SITE_NAME, **context}
    subject = " ".join(render_to_string(f"{template_prefix}/subject.txt", ctx).split())  # one line, no newlines
    return Rendered(
        subject,
        render_to_string(f"{template_prefix}/body.txt", ctx),
        render_to_string(f"{template_prefix}/body.html", ctx),
    )


def build(template_prefix: str, to: str, context: dict,
          cls: type[EmailMultiAlternatives] = EmailMultiAlternatives) -> EmailMultiAlternatives:
    """The mail to `to` from the templates under `template_prefix` (as a `cls`, e.g. a subclass that writes
    its own headers)."""
    rendered = render_message(template_prefix, context)
    message = cls(rendered.subject, rendered.text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(rendered.html, "text/html")
    return message


def send(template_prefix: str, to: str, context: dict) -> bool:
    """Send one templated mail. Returns False (and logs) when the mail server fails: pages still answer."""
    try:
        build(template_prefix, to, context).send()
    except Exception:
        logger.exception("could not send the %s mail", template_prefix)
        return False
    return True
