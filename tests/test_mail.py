"""The mail package: a core layer (no accounts, no digests), templated messages, and the SMTP backend under
both of its dotted paths."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.mail import get_connection

from paperboard.mail import backend, messages, outbox
from tests.smtp import smtp_server  # noqa: F401  (the fixture)

MAIL = Path(__file__).resolve().parent.parent / "paperboard" / "mail"


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_mail_package_imports_neither_accounts_nor_digests():
    modules = sorted(MAIL.glob("*.py"))
    assert {p.stem for p in modules} >= {"backend", "messages", "transport", "outbox"}
    for path in modules:
        upward = {m for m in imported_modules(path) if m.startswith(("paperboard.accounts", "paperboard.digests"))}
        assert not upward, f"{path.name} imports {upward}"


def test_a_templated_message_has_a_one_line_subject_a_text_and_an_html_part(settings):
    settings.BASE_URL = "https://papers.example.org"
    rendered = messages.render_message("accounts/email/confirm", {"user": None, "confirm_path": "/accounts/confirm/x"})
    assert rendered.subject and "\n" not in rendered.subject
    assert "https://papers.example.org/accounts/confirm/x" in rendered.text
    assert "https://papers.example.org/accounts/confirm/x" in rendered.html and "<" in rendered.html
    built = messages.build("accounts/email/confirm", "ann@example.org", {"confirm_path": "/accounts/confirm/x"})
    assert (built.subject, built.body, built.to) == (rendered.subject, rendered.text, ["ann@example.org"])
    assert built.alternatives[0][1] == "text/html"


def test_a_failing_mail_server_is_logged_and_reported_not_raised(settings, caplog):
    settings.EMAIL_BACKEND = backend.PATH
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    assert messages.send("accounts/email/confirm", "ann@example.org", {"confirm_path": "/x"}) is False
    assert "could not send the accounts/email/confirm mail" in caplog.text


@pytest.mark.parametrize("path", sorted(backend.PATHS))
def test_the_smtp_backend_sends_under_either_dotted_path(settings, smtp_server, path):  # noqa: F811
    settings.EMAIL_BACKEND = path
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_SSL = "127.0.0.1", smtp_server.port, False
    settings.PAPERBOARD_SMTP_STARTTLS = "auto"  # the test server offers no STARTTLS: plain SMTP
    assert isinstance(get_connection(), backend.SmtpBackend) and backend.in_use()
    assert messages.send("accounts/email/confirm", "ann@example.org", {"confirm_path": "/accounts/confirm/x"})
    (received,) = smtp_server.wait_for(1)
    assert received["To"] == "ann@example.org" and received.get_body(("html",)) is not None
    assert outbox.folder() is None  # mail goes to the server, not to the outbox folder
