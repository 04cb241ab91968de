"""The outbox page for staff: the mails a development or demo instance wrote to the outbox folder instead
of sending them (no PAPERBOARD_SMTP_URL), listed and shown. Reading the folder: `paperboard.mail.outbox`.
"""

from __future__ import annotations

from email.message import EmailMessage

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from paperboard import csp
from paperboard.mail import outbox


def _read(name: str) -> list[EmailMessage]:
    found = outbox.read(name)
    if found is None:
        raise Http404("no such outbox file")
    return found


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
    return render(request, "digests/outbox.html", {"files": outbox.files(), "folder": outbox.folder()})


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
    found = _read(name)
    n, chosen = _chosen(request, found)
    return render(request, "digests/outbox_file.html", {
        "name": name,
        "messages_in_file": [(i, m["Subject"], m["To"], m["Date"]) for i, m in enumerate(found)],
        "chosen": chosen,
        "chosen_index": n,
        "headers": list(chosen.items()) if chosen is not None else [],
        "text": outbox.body(chosen, "plain") if chosen is not None else "",
        "has_html": chosen is not None and chosen.get_body(("html",)) is not None,
    })


@require_GET
def show_html(request: HttpRequest, name: str) -> HttpResponse:
    """A message's HTML part on its own, as a mail client shows it (the outbox page frames it): sandboxed, its
    inline styles allowed and no script at all (paperboard.csp.EMAIL_POLICY)."""
    gate = _gate(request)
    if gate is not None:
        return gate
    _, chosen = _chosen(request, _read(name))
    if chosen is None or chosen.get_body(("html",)) is None:
        raise Http404("no such message, or it has no HTML part")
    response = HttpResponse(outbox.body(chosen, "html"))
    response["Cache-Control"] = "private, no-store"
    return csp.email_rendition(response)
