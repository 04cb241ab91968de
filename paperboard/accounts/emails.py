"""Mails: one folder of templates per mail, sent as text plus a simple HTML alternative.

`templates/accounts/email/<name>/{subject.txt,body.txt,body.html}` (another app passes its own `root`,
e.g. `digests/email`); every template gets `base_url` (settings.BASE_URL, so links are absolute) and
`site_name` besides the caller's context.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger("paperboard.accounts")

SITE_NAME = "Paperboard"


def build(name: str, to: str, context: dict, *, root: str = "accounts/email") -> EmailMultiAlternatives:
    ctx = {"base_url": settings.BASE_URL, "site_name": SITE_NAME, **context}
    folder = f"{root}/{name}"
    subject = " ".join(render_to_string(f"{folder}/subject.txt", ctx).split())  # one line, no newlines
    text = render_to_string(f"{folder}/body.txt", ctx)
    html = render_to_string(f"{folder}/body.html", ctx)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message


def send(name: str, to: str, context: dict, *, root: str = "accounts/email") -> bool:
    """Send mail `name` to `to`. Returns False (and logs) when the mail server fails: pages still answer."""
    try:
        build(name, to, context, root=root).send()
    except Exception:
        logger.exception("could not send the %s mail", name)
        return False
    return True
