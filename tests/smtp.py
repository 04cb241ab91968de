"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, a free port), as the `smtp_server` fixture.

    from tests.smtp import smtp_server  # noqa: F401  (makes the fixture available in a test module)

    def test_mail(smtp_server, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
        ...
        msg = smtp_server.wait_for(1)[0]   # an email.message.EmailMessage

Messages are parsed with `email.policy.default`, so `msg["To"]`, `msg.get_body(("plain",))` etc. work.

Misbehaving on purpose, for the digest tests:
    smtp_server.refuse["bad@example.org"] = "550 5.1.1 No such user"   # the reply to that RCPT TO
    smtp_server.stall_at = ("rcpt", 4)   # the 4th RCPT TO (counted over the server's life) waits
    smtp_server.stall_at = ("data", 4)   # the 4th message is taken (recorded), then the answer waits
`smtp_server.stalled` is set when the stall begins; the stall lasts `stall_seconds` or until the client
goes away (aiosmtpd then cancels the handler).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """What the fixture yields: the port, the received messages and their envelopes."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs) of each message
        self._arrived = threading.Condition()
        self.refuse: dict[str, str] = {}  # RCPT TO address -> the reply it gets instead of 250
        self.stall_at: tuple[str, int] | None = None  # ("rcpt" | "data", n): the n-th such command waits
        self.stall_seconds = 60.0
        self.stalled = threading.Event()
        self.counts = {"rcpt": 0, "data": 0}

    async def _maybe_stall(self, command: str) -> None:
        self.counts[command] += 1
        if self.stall_at == (command, self.counts[command]):
            self.stalled.set()
            await asyncio.sleep(self.stall_seconds)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd handler hook
        await self._maybe_stall("rcpt")
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        await self._maybe_stall("data")  # taken already: like a server that queued it and has not answered
        return "250 Message accepted for delivery"

    def received_by(self) -> dict[str, int]:
        """How many messages each recipient got."""
        counts: dict[str, int] = {}
        with self._arrived:
            for _, rcpts in self.envelopes:
                for rcpt in rcpts:
                    counts[rcpt] = counts.get(rcpt, 0) + 1
        return counts

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived; return them all (fails the test on timeout)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"expected {count} mail(s) on the test SMTP server, got {len(self.messages)}")
                self._arrived.wait(left)
            return list(self.messages)


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    last_error: Exception | None = None
    for _ in range(5):  # the free port may be taken between probing and binding; try another
        server = SmtpServer("127.0.0.1", free_port())
        controller = Controller(server, hostname=server.host, port=server.port)
        try:
            controller.start()
        except Exception as exc:  # noqa: BLE001 - aiosmtpd raises different errors across versions
            last_error = exc
            try:
                controller.stop()
            except Exception:  # noqa: BLE001 - nothing was running
                pass
            continue
        try:
            yield server
        finally:
            controller.stop()
        return
    raise RuntimeError(f"could not start the test SMTP server: {last_error}")
