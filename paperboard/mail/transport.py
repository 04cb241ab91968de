"""Handing many mails (digests) to the mail server over one connection (Django's `get_connection()`).

`Transport.send(message, before_data)` calls `before_data()` at the last moment a send can still be called
off without the server having the message: after the server took the envelope (MAIL FROM, RCPT TO) and
before the DATA command. A sender records the hand-over there (the digests' `sending`). Backends that do not
speak SMTP (the outbox folder, locmem in tests) call it just before writing the message.

Failures raise `SendError`, which carries the SMTP reply code and whether it is permanent: a 5xx reply to
RCPT TO or to the message itself is about this recipient (it counts toward suppression); 4xx replies,
dropped connections and timeouts are transient (retried later); a 5xx to MAIL FROM is our own sender's
problem, retried like a transient one, never held against the subscriber.

The socket has TCP_NODELAY: each SMTP command is one small write followed by a wait for the answer, the
pattern where Nagle's algorithm and the server's delayed ACK add tens of milliseconds per message.
"""

from __future__ import annotations

import functools
import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
from django.core.mail.message import sanitize_address

_sender = functools.lru_cache(maxsize=8)(sanitize_address)  # the same From on every message


class SendError(Exception):
    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False, connection: bool = False):
        super().__init__(message)
        self.code, self.permanent, self.connection = code, permanent, connection

    @classmethod
    def from_reply(cls, stage: str, code: int, reply: bytes | str) -> SendError:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        permanent = 500 <= code < 600 and stage in ("RCPT TO", "DATA")
        return cls(f"{stage}: {code} {text}".strip(), code=code, permanent=permanent)


class Transport:
    def __init__(self, backend=None):
        self.backend = backend or get_connection(fail_silently=False)
        self.is_smtp = isinstance(self.backend, SmtpEmailBackend)

    def send(self, message: EmailMessage, before_data) -> None:
        if not self.is_smtp:
            before_data()
            if self.backend.send_messages([message]) != 1:
                raise SendError("the mail backend did not take the message")
            return
        try:
            self._send_smtp(message, before_data)
        except SendError:
            raise
        except smtplib.SMTPDataError as exc:  # the reply to the DATA command was not 354
            self.close()
            raise SendError.from_reply("DATA", exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:  # greeting, EHLO, TLS, login, dropped connection, timeout
            self.close()
            code = getattr(exc, "smtp_code", None)
            raise SendError(f"mail server: {exc.__class__.__name__}: {exc}", code=code, connection=True) from exc

    def _send_smtp(self, message: EmailMessage, before_data) -> None:
        if self.backend.open():  # a new connection
            self._no_delay(self.backend.connection)
        smtp = self.backend.connection
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = _sender(message.from_email, encoding)
        recipients = [sanitize_address(a, encoding) for a in message.recipients()]
        smtp_bytes = getattr(message, "smtp_bytes", None)  # a message may write its own bytes (the digest does)
        data = smtp_bytes() if smtp_bytes else message.message().as_bytes(linesep="\r\n")
        smtp.ehlo_or_helo_if_needed()
        options = [f"SIZE={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:
            self._reset(smtp)
            raise SendError.from_reply("MAIL FROM", code, reply)
        for rcpt in recipients:
            code, reply = smtp.rcpt(rcpt)
            if code not in (250, 251):
                self._reset(smtp)
                raise SendError.from_reply("RCPT TO", code, reply)
        try:
            before_data()
        except BaseException:
            self._reset(smtp)
            raise
        code, reply = smtp.data(data)
        if code != 250:
            self._reset(smtp)
            raise SendError.from_reply("DATA", code, reply)

    @staticmethod
    def _no_delay(smtp) -> None:
        sock = getattr(smtp, "sock", None)
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _reset(self, smtp) -> None:
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        try:
            self.backend.close()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            if self.is_smtp:
                self.backend.connection = None
