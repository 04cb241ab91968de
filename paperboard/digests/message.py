"""The digest mail: HTML with inline styles (no remote images) and a plain-text alternative, with the
one-click unsubscribe headers of RFC 8058 and a Message-ID that stays the same for every try of a digest.

A `Renderer` is made once per run: each paper's block (`digest/_paper.html`, `_paper.txt`) is rendered once
and kept by paper id (bounded), and each message is the body templates around those blocks (the
subscriber's header, section titles and footer), so a message costs three small renders, not one per
paper. The preview goes through the same code. A non-ASCII Subject (most paper titles) is encoded here as
RFC 2047 base64 words (`DigestMail`): `email.header` folds such a header a character at a time, which
cost more than rendering the whole message; and short ASCII headers are written as they are
(`QuickFolding`) instead of each going through `email.header.Header`. `DigestMail.smtp_bytes()` (what
the transport sends) writes a digest with ASCII addresses and short lines directly as multipart/alternative
bytes, in the layout `email.generator` would give it (anything else goes through Django's MIME objects):
the generator's line-by-line writing cost as much as composing the digest.
"""

from __future__ import annotations

import base64
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from email.policy import Compat32
from email.utils import formatdate, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.template.loader import render_to_string

from paperboard.digests import links
from paperboard.digests.content import Digest
from paperboard.digests.models import Delivery, Subscription
from paperboard.mail import messages as mail

ROOT = "digests/email"
KIND = {"weekdays": "weekday", "daily": "daily", "weekly": "weekly"}  # "your weekday digest"
BLOCKS_KEPT = 5000  # papers whose rendered blocks a Renderer keeps (a run offers a few thousand at most)


@dataclass
class RenderedSection:
    title: str
    html: list[str]  # one rendered block per paper
    text: list[str]


class Renderer:
    """Renders each paper's HTML and text block once per run (by paper id) for every message that has it."""

    def __init__(self, size: int = BLOCKS_KEPT):
        self.size = size
        self._blocks: OrderedDict[int, tuple[str, str]] = OrderedDict()

    def block(self, paper) -> tuple[str, str]:
        if paper.pk in self._blocks:
            self._blocks.move_to_end(paper.pk)
            return self._blocks[paper.pk]
        ctx = {"p": paper, "base_url": settings.BASE_URL}
        made = (render_to_string(f"{ROOT}/digest/_paper.html", ctx), render_to_string(f"{ROOT}/digest/_paper.txt", ctx))
        self._blocks[paper.pk] = made
        if len(self._blocks) > self.size:
            self._blocks.popitem(last=False)
        return made

    def sections(self, digest: Digest) -> list[RenderedSection]:
        out = []
        for section in digest.sections:
            blocks = [self.block(p) for p in section.papers]
            out.append(RenderedSection(section.title, [h for h, _ in blocks], [t for _, t in blocks]))
        return out


WORD_BYTES = 39  # UTF-8 bytes per encoded word: 64 characters, so "Subject: " and the first fit one line


def encoded_words(text: str) -> str:
    """`text` as RFC 2047 base64 encoded words (ASCII text as it is), split between characters."""
    if text.isascii():
        return text
    words, word = [], b""
    for ch in text:
        b = ch.encode()
        if len(word) + len(b) > WORD_BYTES:
            words.append(word)
            word = b""
        word += b
    words.append(word)
    return " ".join(f"=?utf-8?b?{base64.b64encode(w).decode()}?=" for w in words)


class QuickFolding(Compat32):
    """Django's mail policy (compat32), except that a header that is ASCII and fits one line is written as
    it is: folding it would not change it, and `email.header` takes longer than the rest of the header."""

    def fold_binary(self, name, value):
        if isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value \
                and len(name) + 2 + len(value) <= (self.max_line_length or 78):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


QUICK = QuickFolding()


class DigestMail(EmailMultiAlternatives):
    """The digest mail, its Subject encoded by `encoded_words` and its headers written by `QuickFolding`."""

    def message(self, *args, **kwargs):
        plain, self.subject = self.subject, encoded_words(self.subject)
        try:
            msg = super().message(*args, **kwargs)
        finally:
            self.subject = plain
        msg.policy = QUICK  # the generator passes it on to the text and HTML parts
        return msg

    def smtp_bytes(self) -> bytes:
        """The message as the SMTP DATA payload (CRLF line ends)."""
        headers = self._plain_headers()
        bodies = [(self.content_subtype, self.body), *((m.split("/", 1)[1], c) for c, m in self.alternatives)]
        if headers is None or self.attachments or any(not isinstance(b, str) or _long_lines(b) for _, b in bodies) \
                or any(m.split("/", 1)[0] != "text" for _, m in self.alternatives):
            return self.message().as_bytes(linesep="\r\n")
        boundary = f"=_digest_{secrets.token_hex(12)}"
        head = [("Content-Type", f'multipart/alternative; boundary="{boundary}"'), ("MIME-Version", "1.0"), *headers]
        out = [b"".join(QUICK.fold_binary(name, value) for name, value in head), b"\r\n"]
        for subtype, body in bodies:
            cte = "7bit" if body.isascii() else "8bit"
            out.append(f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
                       f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode())
            out.append(_crlf(body).encode() + b"\r\n")
        out.append(f"--{boundary}--\r\n".encode())
        return b"".join(out)

    def _plain_headers(self) -> list[tuple[str, str]] | None:
        """The top-level headers in Django's order, or None when one needs encoding (Django's path does it)."""
        extra = {k.lower(): (k, v) for k, v in self.extra_headers.items()}
        headers = [("Subject", encoded_words(self.subject)), ("From", extra.get("from", ("", self.from_email))[1])]
        for name, values in (("To", self.to), ("Cc", self.cc), ("Reply-To", self.reply_to)):
            if values:
                headers.append((name, ", ".join(str(v) for v in values)))
        if "date" not in extra:
            headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
        if "message-id" not in extra:
            return None
        headers += [(k, v) for key, (k, v) in extra.items() if key not in ("from", "to", "cc", "reply-to")]
        for name, value in headers:
            value = str(value)
            if "\n" in value or "\r" in value:
                raise BadHeaderError(f"Header values can't contain newlines (got {value!r} for header {name!r})")
            if not value.isascii():
                return None
        return [(name, str(value)) for name, value in headers]


def _long_lines(text: str) -> bool:  # Django sends such a part quoted-printable
    return any(len(line.encode()) > 998 for line in text.splitlines())


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def context(subscription: Subscription, digest: Digest, period_label: str = "", renderer: Renderer | None = None) -> dict:
    base = settings.BASE_URL
    return {
        "subscription": subscription,
        "digest": digest,
        "sections": (renderer or Renderer()).sections(digest),
        "period_label": period_label,
        "frequency_label": KIND.get(subscription.frequency, "email"),
        "preferences_url": base + links.preferences_path(subscription),
        "preview_url": base + links.preview_path(subscription),
        "unsubscribe_url": base + links.unsubscribe_path(subscription),
        "base_url": base,
        "site_name": mail.SITE_NAME,
    }


def _host() -> str:
    return urlsplit(settings.BASE_URL).hostname or "localhost"


def build(subscription: Subscription, digest: Digest, delivery: Delivery | None = None,
          renderer: Renderer | None = None) -> EmailMultiAlternatives:
    period = delivery.period_key if delivery is not None else ""
    ctx = context(subscription, digest, period, renderer)
    message = mail.build(f"{ROOT}/digest", subscription.email, ctx, cls=DigestMail)
    mailbox = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or f"noreply@{_host()}"
    message.extra_headers.update(
        {
            "List-Unsubscribe": f"<{ctx['unsubscribe_url']}>, <mailto:{mailbox}?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{mail.SITE_NAME} digest <digest.{_host()}>",
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
