"""Outgoing mail, for every app that sends some (accounts, digests). A core package: it imports neither.

    backend    the SMTP backend (STARTTLS when offered) that PAPERBOARD_SMTP_URL selects
    messages   templated mails: subject, text and HTML from one template folder; sending with logging
    transport  one connection for many messages, with the hand-over hook and permanent/transient failures
    outbox     reading the outbox folder that mail goes to without a mail server
"""

from paperboard.mail.backend import (
    SmtpBackend,  # the backend's first dotted path, paperboard.mail.SmtpBackend
)

__all__ = ["SmtpBackend"]
