"""The outbox page for staff: the mails a development or demo instance wrote to
`$PAPERBOARD_DATA_DIR/outbox/` instead of sending them (no PAPERBOARD_SMTP_URL), listed and shown.

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
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from paperboard import csp

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


def read(name: str) -> list[EmailMessage]:
    """The messages in outbox file `name` (only a plain name from the folder: no paths)."""
    where = folder()
    if where is None or not NAME_RE.match(name) or not (where / name).is_file():
        raise Http404("no such outbox file")
    raw = (where / name).read_bytes()
    return [email.message_from_bytes(part, policy=email.policy.default) for part in raw.split(SEPARATOR) if part.strip()]


def _body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    return part.get_content() if part is not None else ""


def _gate(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_staff:
        return render(request, "papers/error.html", {"message": "The outbox is for admins only."}, status=403)
    return None


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    gate = _gate(request)
    if gate is not None:
        return gate
    return render(request, "digests/outbox.html", {"files": files(), "folder": folder()})


def _chosen(request: HttpRequest, found: list[EmailMessage]) -> tuple[int, EmailMessage | None]:
    """The message `?m=<index>` picks in an outbox file (the first when `m` is missing or not a number)."""
    try:
        n = int(request.GET.get("m", "0"))
    except ValueError:
        n = 0
    return n, (found[n] if 0 <= n < len(found) else None)


@require_GET
def show(request: HttpRequest, name: str) -> HttpResponse:
    gate = _gate(request)
    if gate is not None:
        return gate
    found = read(name)
    n, chosen = _chosen(request, found)
    return render(request, "digests/outbox_file.html", {
        "name": name,
        "messages_in_file": [(i, m["Subject"], m["To"], m["Date"]) for i, m in enumerate(found)],
        "chosen": chosen,
        "chosen_index": n,
        "headers": list(chosen.items()) if chosen is not None else [],
        "text": _body(chosen, "plain") if chosen is not None else "",
        "has_html": chosen is not None and chosen.get_body(("html",)) is not None,
    })


@require_GET
def show_html(request: HttpRequest, name: str) -> HttpResponse:
    """A message's HTML part on its own, as a mail client shows it (the outbox page frames it): sandboxed, its
    inline styles allowed and no script at all (paperboard.csp.EMAIL_POLICY)."""
    gate = _gate(request)
    if gate is not None:
        return gate
    _, chosen = _chosen(request, read(name))
    if chosen is None or chosen.get_body(("html",)) is None:
        raise Http404("no such message, or it has no HTML part")
    response = HttpResponse(_body(chosen, "html"))
    response["Cache-Control"] = "private, no-store"
    return csp.email_rendition(response)
