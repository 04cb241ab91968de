"""SMTP backend that upgrades to STARTTLS when the server offers it (PAPERBOARD_SMTP_URL `starttls=auto`).

Django's own backend either always or never sends STARTTLS; "auto" suits relays that may or may not offer
it. Credentials are sent only after the upgrade when there is one.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.utils import DNS_NAME

PATH = "paperboard.mail.backend.SmtpBackend"  # EMAIL_BACKEND when PAPERBOARD_SMTP_URL is set
PATHS = frozenset({PATH, "paperboard.mail.SmtpBackend"})  # the package re-exports it under its first path


def in_use() -> bool:
    """Whether mail goes to a mail server through this backend (not to the outbox folder)."""
    return settings.EMAIL_BACKEND in PATHS


class SmtpBackend(EmailBackend):
    def open(self):
        if self.connection:
            return False
        mode = getattr(settings, "PAPERBOARD_SMTP_STARTTLS", False)
        if mode != "auto" or self.use_ssl:
            self.use_tls = bool(mode) and not self.use_ssl
            return super().open()
        params = {"local_hostname": DNS_NAME.get_fqdn()}
        if self.timeout is not None:
            params["timeout"] = self.timeout
        try:
            self.connection = smtplib.SMTP(self.host, self.port, **params)
            self.connection.ehlo()
            if self.connection.has_extn("starttls"):
                self.connection.starttls(context=self.ssl_context)
                self.connection.ehlo()
            if self.username and self.password:
                self.connection.login(self.username, self.password)
            return True
        except OSError:
            if not self.fail_silently:
                raise
            return False
