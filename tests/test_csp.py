"""The Content-Security-Policy: on every route of the URL conf (pages, admin, error pages, the API and its
docs), with the directives that keep injected markup from running script or restyling a page, and templates
that need nothing the policy forbids (no inline style or script, no on…= handlers)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from paperboard.community import collections, comments
from paperboard.digests import links, sending
from tests.conftest import as_user
from tests.digests_support import NOW, on_feed, subscriber

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {"default-src": {"'self'"}, "object-src": {"'none'"}, "base-uri": {"'self'"},
            "frame-ancestors": {"'none'"}, "form-action": {"'self'"}}


def directives(response) -> dict[str, set[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request['PATH_INFO']} ({response.status_code})"
    parsed = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *values = part.split()
        parsed[name] = set(values)
    return parsed


def assert_site_policy(response) -> None:
    found = directives(response)
    where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']} ({response.status_code})"
    for name, values in REQUIRED.items():
        assert found.get(name) == values, (where, name, found.get(name))
    for name in ("default-src", "script-src", "style-src"):
        loose = {"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "http:"}
        assert not found.get(name, set()) & loose, where
    assert found["script-src"] == {"'self'"} and found["style-src"] == {"'self'"}, where


# ---------------------------------------------------------------- every route


def project_routes() -> set[str]:
    """Every route of the URL conf, but the admin's per-model pages (a few stand for them all below)."""

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    routes = set(walk(get_resolver().url_patterns))
    return {r for r in routes if not r.startswith("admin/") or r.startswith("admin/moderation")}


@pytest.fixture
def world(db, admin, alice, settings, tmp_path):
    """A paper on the feed with a comment, a public collection, a subscriber and a mail in the outbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"
    settings.PAPERBOARD_RATELIMIT_ENABLED = False
    (paper,) = on_feed(1, day=timezone.localdate().isoformat())
    comment = comments.post(alice, paper, "A *fine* paper.")
    collection = collections.create(alice, "Reading list", public=True)
    collections.add(alice, collection, paper)
    subscription = subscriber("ada@example.org")
    assert sending.send_due(now=NOW).sent == 1
    (outbox_file,) = (tmp_path / "outbox").iterdir()
    return {"paper": paper, "comment": comment, "collection": collection, "subscription": subscription,
            "outbox": outbox_file.name}


def requests_for(w) -> list[tuple[str, str, str, dict]]:
    """(who, method, path, data) reaching every route: `anon`, `alice` (a reader) or `admin` (staff)."""
    a = w["paper"].arxiv_id
    day = timezone.localdate()
    col = f"/u/alice/collections/{w['collection'].slug}"
    s = w["subscription"]
    pages = [
        "/", "/papers", "/papers.json", f"/papers/date/{day}", f"/papers/week/{day:%G-W%V}",
        f"/papers/month/{day:%Y-%m}", f"/papers/{a}", f"/papers/{a}.json", f"/papers/{a}.md",
        "/papers/trending", "/papers/trending.json", "/papers/search", "/papers/search?q=paper",
        "/papers/search.json?q=paper", "/papers/search/suggest?q=pap", "/papers/category/cs.LG",
        "/papers/category/cs.LG.json", "/papers/submit", "/papers/feed.atom", "/papers/trending/feed.rss",
        "/papers/category/cs.LG/feed.json", "/papers/search/feed.atom?q=paper",
        "/papers/author/feed.atom?name=Ada%20Lovelace", f"{col}/feed.atom",
        "/u/alice", "/u/alice.json", "/u/alice/collections", col,
        "/accounts/signup", "/accounts/login", "/accounts/confirm", "/accounts/confirm/not-a-token",
        "/accounts/password-reset", "/accounts/password-reset/sent", "/accounts/password-reset/done",
        "/accounts/password-reset/MQ/not-a-token",
        "/digest/subscribe", "/digest/confirm/not-a-token", f"/digest/preferences/{links.manage_token(s)}",
        f"/digest/unsubscribe/{links.manage_token(s)}", "/digest/preview/not-a-token",
        "/healthz", "/readyz", "/metrics", "/api/", "/api/no-such-endpoint", "/api/docs", "/api/openapi.json", "/api/daily_papers",
        "/api/papers", "/api/papers/search?q=paper", f"/api/papers/{a}", f"/api/papers/{a}/comments",
        f"/api/papers/{a}/similar", "/no/such/page", "/papers/2501.99999",
    ]
    plan = [("anon", "GET", p, {}) for p in pages]
    plan += [("alice", "GET", p, {}) for p in (
        "/for-you", "/for-you.json", "/for-you/interests", "/accounts/settings", "/accounts/password-change",
        "/accounts/delete", f"{col}/edit", "/papers", f"/papers/{a}", "/admin/moderation", "/digest/outbox")]
    outbox = f"/digest/outbox/{w['outbox']}"
    plan += [("admin", "GET", p, {}) for p in (
        "/admin/moderation", "/admin/moderation/log", "/digest/outbox", outbox,
        f"{outbox}/html?m=9",  # no such message: a site page (a mail gets its own policy)
        "/admin/", "/admin/papers/paper/", "/admin/papers/paper/add/",
        f"/admin/papers/paper/{w['paper'].pk}/change/", f"/admin/auth/user/{w['paper'].pk}/change/",
        "/admin/community/comment/")]
    plan += [("anon", "GET", "/admin/login/", {})]
    c, k = w["comment"].pk, w["collection"].pk
    posts = [  # forms answer with a page, a redirect, or 405/4xx for the wrong method: all carry the policy
        ("alice", f"/papers/{a}/upvote", {"action": "add"}),
        ("alice", f"/papers/{a}/comments", {"body": "Agreed."}),
        ("alice", f"/comments/{c}/edit", {"body": "A *fine* paper, really."}),
        ("alice", f"/papers/{a}/claim", {"author_name": "Ada Lovelace"}),
        ("alice", f"/papers/{a}/links", {}),
        ("alice", f"/papers/{a}/collect", {"collection": k}),
        ("alice", f"/papers/{a}/uncollect", {"collection": k}),
        ("alice", "/flags", {"kind": "comment", "target": c, "reason": "spam"}),
        ("alice", "/accounts/settings/tokens", {"name": "laptop"}),
        ("alice", "/accounts/settings/tokens/999/revoke", {}),
        ("alice", "/digest/subscribe/account", {}),
        ("alice", f"{col}/delete", {}),
        ("alice", f"/comments/{c}/delete", {}),
        ("admin", "/admin/moderation/act", {}),
        ("anon", "/accounts/logout", {}),
        ("anon", "/api/papers/submit", {}),
        ("anon", f"/api/papers/{a}/upvote", {}),
    ]
    plan += [(who, "POST", path, data) for who, path, data in posts]
    return plan


def test_every_route_answers_with_the_content_security_policy(world, admin, alice):
    clients = {"anon": Client(), "alice": as_user(alice), "admin": as_user(admin)}
    covered = set()
    for who, method, path, data in requests_for(world):
        response = getattr(clients[who], method.lower())(path, data)
        assert response.status_code < 500, (who, method, path, response.status_code)
        assert_site_policy(response)
        try:
            covered.add(resolve(path.split("?")[0]).route)
        except Exception:  # noqa: BLE001 - an unknown path on purpose (the 404 page)
            pass
    assert project_routes() - covered == set()


def test_cached_pages_and_error_pages_carry_the_policy_too(world):
    anon = Client()
    first, again = anon.get("/papers"), anon.get("/papers")  # the second one comes whole from the page cache
    assert first.content == again.content
    for response in (first, again, anon.get("/no/such/page"), anon.get("/papers/not-an-id")):
        assert_site_policy(response)
    strict = Client(enforce_csrf_checks=True)  # Django's CSRF failure page
    refused = strict.post("/digest/subscribe", {"email": "ada@example.org"})
    assert refused.status_code == 403
    assert_site_policy(refused)


def test_a_server_error_page_carries_the_policy(db, settings):
    settings.ROOT_URLCONF = "tests.csp_urls"
    response = Client(raise_request_exception=False).get("/fails")
    assert response.status_code == 500
    assert_site_policy(response)


def test_the_admin_and_the_api_docs_need_nothing_from_another_host(db, admin):
    staff = as_user(admin)
    for path in ("/api/docs", "/admin/", "/admin/papers/paper/add/"):
        html = staff.get(path).content.decode()
        sources = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/") for s in sources), (path, sources)
        inline = re.findall(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html)
        assert inline == [], (path, inline)


# ---------------------------------------------------------------- mails shown in the browser


def test_a_mail_shown_in_the_browser_keeps_its_inline_styles_but_is_sandboxed_without_script(world, admin):
    staff = as_user(admin)
    for path in (links.preview_path(world["subscription"]), f"/digest/outbox/{world['outbox']}/html?m=0"):
        response = staff.get(path)
        assert response.status_code == 200 and b'style="' in response.content, path
        found = directives(response)
        assert "sandbox" in found and found["sandbox"] == set(), path  # no allow-scripts, no allow-forms
        assert found["default-src"] == {"'none'"} and "script-src" not in found, path
        assert found["style-src"] == {"'unsafe-inline'"} and found["form-action"] == {"'none'"}, path
        assert found["frame-ancestors"] == {"'self'"} and response["X-Frame-Options"] == "SAMEORIGIN", path
    page = staff.get(f"/digest/outbox/{world['outbox']}").content.decode()
    assert f'src="/digest/outbox/{world["outbox"]}/html?m=0"' in page and "srcdoc" not in page
    assert staff.get(f"/digest/outbox/{world['outbox']}/html?m=7").status_code == 404
    reader = Client()
    assert reader.get(f"/digest/outbox/{world['outbox']}/html").status_code == 302  # to the login page


# ---------------------------------------------------------------- templates


TEMPLATE_DIRS = sorted({p for p in ROOT.glob("paperboard/**/templates") if p.is_dir()})
# A mail's HTML needs inline styles (mail clients drop stylesheets); it is never a page of the site.
MAIL_TEMPLATES = re.compile(r"(^|/)email/")
FORBIDDEN = {
    "a style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "a <style> block": re.compile(r"<style\b", re.I),
    "an inline <script> (one with a body)": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*[^<\s]", re.I),
    "an on…= handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "an hx-on attribute (htmx would need eval)": re.compile(r"\shx-on", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def offences(text: str) -> list[str]:
    return [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]


def test_the_template_check_catches_each_kind_of_inline_code():
    assert offences('<p style="color:red">') == ["a style= attribute"]
    assert offences("<style>p{}</style>") == ["a <style> block"]
    assert offences("<script>alert(1)</script>") == ["an inline <script> (one with a body)"]
    assert offences('<input onfocus="this.select()">') == ["an on…= handler attribute"]
    assert offences('<form hx-on:submit="x()">') == ["an hx-on attribute (htmx would need eval)"]
    assert offences('<script src="/static/x.js" defer></script><span class="on-site">') == []


def test_no_template_has_inline_styles_scripts_or_handlers():
    assert TEMPLATE_DIRS, "no templates found"
    found = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            rel = path.relative_to(folder).as_posix()
            if MAIL_TEMPLATES.search(rel):
                continue
            found += [f"{path.relative_to(ROOT)}: {what}" for what in offences(path.read_text())]
    assert found == []


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code(client, db):
    on_feed(1, day=timezone.localdate().isoformat())
    html = client.get("/papers").content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
    assert config, "no htmx-config"
    assert json.loads(config.group(1)) == {"includeIndicatorStyles": False, "allowEval": False,
                                           "allowScriptTags": False}
    css = (ROOT / "paperboard/static/paperboard/site.css").read_text()
    assert ".htmx-indicator" in css and ".htmx-request .htmx-indicator" in css
