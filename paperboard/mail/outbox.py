"""The outbox folder: without PAPERBOARD_SMTP_URL (a development or demo instance) mail is written to
`$PAPERBOARD_DATA_DIR/outbox/` instead of being sent. This reads it back (the staff outbox page shows it).

Django's file backend writes one file per connection, with each message followed by a line of 79 dashes,
so a digest run that reuses one connection leaves many messages in one file.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings

SEPARATOR = b"\n" + b"-" * 79 + b"\n"
NAME_RE = re.compile(r"^[\w.-]+\.log$")
MAX_FILES = 200


@dataclass
class OutboxFile:
    name: str
    size: int
    modified: float


def folder() -> Path | None:
    """The outbox folder, or None when mail goes to a real server."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        return None
    return Path(settings.EMAIL_FILE_PATH)


def files() -> list[OutboxFile]:
    where = folder()
    if where is None or not where.is_dir():
        return []
    found = [OutboxFile(p.name, p.stat().st_size, p.stat().st_mtime) for p in where.iterdir()
             if p.is_file() and NAME_RE.match(p.name)]
    return sorted(found, key=lambda f: (-f.modified, f.name))[:MAX_FILES]


def read(name: str) -> list[EmailMessage] | None:
    """The messages in outbox file `name` (only a plain name from the folder: no paths); None when there is
    no such file."""
    where = folder()
    if where is None or not NAME_RE.match(name) or not (where / name).is_file():
        return None
    raw = (where / name).read_bytes()
    return [email.message_from_bytes(part, policy=email.policy.default) for part in raw.split(SEPARATOR) if part.strip()]


def body(message: EmailMessage, kind: str) -> str:
    """The message's `plain` or `html` part ("" when it has none)."""
    part = message.get_body((kind,))
    return part.get_content() if part is not None else ""
