"""The site under its Content-Security-Policy in a real browser (Debian's chromium driven by Playwright, the
fixtures of tests/test_browser.py): every main page, on a desktop and on a 390 px phone, logged out and in,
with htmx upvotes and results as you type, raises no console error and no `securitypolicyviolation`, and is
still styled by the stylesheet. Skipped, with the reason, only where chromium is not installed."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from django.utils import timezone

from paperboard.community import collections
from tests.conftest import make_paper, make_user, put_on_feed
from tests.smtp import smtp_server  # noqa: F401  (the fixture `site` needs)
from tests.test_browser import CHROMIUM, browser, page, site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                                reason="Debian chromium is not installed (apt-get install chromium)")

PASSWORD = "a long enough passphrase"
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolation(
  `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""
ACCENT = "rgb(249, 115, 22)"
# Waits use expect(), not page.wait_for_function: that one evaluates a string in the page, which the
# policy refuses.  # --accent in site.css (light scheme)


class Watched:
    """A page whose console errors, page errors and CSP violations are collected across navigations."""

    def __init__(self, pg):
        self.page, self.problems = pg, []
        pg.expose_function("__cspViolation", lambda text: self.problems.append(f"CSP: {text}"))
        pg.add_init_script(REPORT_VIOLATIONS)
        self.expected_404s = {"/favicon.ico"}  # the site has no favicon; the browser asks anyway
        pg.on("console", self._console)
        pg.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def _console(self, message) -> None:
        where = message.location.get("url", "")
        not_found = message.text.startswith("Failed to load resource: the server responded with a status "
                                            "of 404")
        if message.type != "error" or (not_found and urlsplit(where).path in self.expected_404s):
            return
        self.problems.append(f"console: {message.text} ({where})")

    def visit(self, url: str, ready: str = "main") -> None:
        if "/no/such/" in url:
            self.expected_404s.add(urlsplit(url).path)
        response = self.page.goto(url)
        assert response is not None and response.status < 500, url
        assert "content-security-policy" in response.headers, url  # Playwright lower-cases header names
        self.page.wait_for_selector(ready)
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(150)  # let a late violation report arrive

    def style(self, selector: str, prop: str) -> str:
        return self.page.eval_on_selector(selector, "(el, p) => getComputedStyle(el).getPropertyValue(p)",
                                          prop)


@pytest.fixture
def reader(transactional_db, settings):
    settings.PAPERBOARD_SEARCH_FETCH_UNKNOWN = False
    settings.PAPERBOARD_SEMANTIC_LIVE_EMBED = False
    today = timezone.localdate().isoformat()
    recent = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    for i, title in enumerate(["Sparse attention for long documents", "Graph neural networks for molecules",
                               "Diffusion policies for dexterous manipulation"]):
        paper = make_paper(f"2511.0{i}111", title, published=recent, categories=("cs.LG", "cs.CL"))
        put_on_feed(paper, today, votes=2 - i)
    dora = make_user("dora", password=PASSWORD)
    collections.add(dora, collections.create(dora, "Reading list", public=True),
                    make_paper("2511.09999", "Saved for later", published=recent))
    make_user("root", password=PASSWORD, superuser=True)
    return dora


PUBLIC_PAGES = ["/papers", "/papers/2511.00111", "/papers/trending", "/papers/search?q=attention",
                "/papers/search", "/papers/category/cs.LG", "/papers/submit", "/u/dora",
                "/u/dora/collections/reading-list", "/accounts/login", "/accounts/signup",
                "/accounts/password-reset", "/digest/subscribe", "/no/such/page"]


def log_in(w: Watched, url: str, who: str) -> None:
    w.visit(f"{url}/accounts/login")
    w.page.fill("input[name=login]", who)
    w.page.fill("input[name=password]", PASSWORD)
    w.page.click("main form button[type=submit]")
    w.page.wait_for_selector(f"header >> text={who}")


def test_the_main_pages_run_under_the_policy_and_stay_styled_on_a_desktop(site, page, reader):  # noqa: F811
    url, _ = site
    w = Watched(page)
    for path in PUBLIC_PAGES:
        w.visit(url + path)
    assert w.problems == []

    # Styled by site.css alone: the header bar, cards, the search box and its help.
    w.visit(f"{url}/papers", "article.card")
    assert w.style("header.top", "display") == "flex"
    assert w.style("article.card", "display") == "grid"
    assert len(w.style("article.card", "grid-template-columns").split()) == 3
    assert w.style("a.votes", "border-top-left-radius") == "10px"
    assert w.style("a.votes", "text-decoration-line") == "none"
    assert w.style("a.cat", "text-decoration-line") == "none"
    assert w.style(".search-box", "position") == "relative"
    assert w.style("#search-suggest", "display") == "none"  # :empty

    log_in(w, url, "dora")

    # Upvote through htmx: swapped in place, the voted style comes from the stylesheet.
    w.visit(f"{url}/papers/2511.02111", "main .vote-form")
    w.page.evaluate("window.__same_page = true")
    vote = w.page.locator("main .vote-form").first
    assert vote.locator(".count").inner_text() == "0"
    assert w.style("main .vote-form button.votes", "cursor") == "pointer"
    vote.locator("button").click()
    expect(w.page.locator("main .vote-form .count").first).to_have_text("1")
    assert w.page.evaluate("window.__same_page") is True
    assert w.style("main .vote-form button.votes", "border-top-color") == ACCENT

    # Results as you type: the header box (htmx), then the search page's own form (htmx).
    w.page.fill("#search-q", "molecul")
    w.page.wait_for_selector("#search-suggest li a:has-text('Graph neural networks')")
    assert w.style("#search-suggest", "position") == "absolute"
    assert w.style("#search-suggest .more", "margin-top") == "6px"
    w.visit(f"{url}/papers/search", "#search-page-q")
    w.page.fill("#search-page-q", "diffusion")
    w.page.wait_for_selector("#search-results .result:has-text('Diffusion policies')")
    assert w.page.evaluate("window.location.search").startswith("?")  # hx-push-url

    # The logged-in pages, and the API token page whose field selects itself (site.js, no inline handler).
    for path in ("/for-you", "/for-you/interests", "/accounts/settings", "/accounts/password-change",
                 "/papers/2511.00111", "/u/dora"):
        w.visit(url + path)
    w.visit(f"{url}/accounts/settings")
    w.page.fill("form[action$='/tokens'] input[name=name]", "laptop")
    w.page.click("form[action$='/tokens'] button[type=submit]")
    w.page.wait_for_selector("#new-token")
    w.page.focus("#new-token")
    assert w.page.evaluate("(() => { const f = document.getElementById('new-token');"
                           " return f.selectionStart === 0 && f.selectionEnd === f.value.length; })()")
    assert w.problems == []


def test_the_admin_moderation_and_api_docs_run_under_the_policy(site, page, reader):  # noqa: F811
    url, _ = site
    w = Watched(page)
    w.visit(f"{url}/api/docs", "#swagger-ui .opblock")  # Swagger UI rendered the schema from our own files
    w.visit(f"{url}/admin/login/", "#login-form")
    w.page.fill("input[name=username]", "root")
    w.page.fill("input[name=password]", PASSWORD)
    w.page.click("input[type=submit]")
    w.page.wait_for_selector("#site-name")
    for path in ("/admin/", "/admin/papers/paper/", "/admin/papers/paper/add/", "/admin/auth/user/1/change/"):
        w.visit(url + path, "#header")
        assert w.style("#header", "display") == "flex", path  # the admin's own stylesheet applies
    w.page.click("#header .theme-toggle")  # the admin's own scripts run: the theme switches from auto
    expect(w.page.locator("html")).not_to_have_attribute("data-theme", "auto")
    w.visit(f"{url}/admin/moderation/log", ".mod table")
    assert w.style(".mod table", "border-collapse") == "collapse"  # moved from the page into site.css
    w.visit(f"{url}/admin/moderation", ".mod section")
    assert w.style(".mod section", "margin-top") == "18px"
    assert w.problems == []


def test_the_pages_run_under_the_policy_on_a_phone(site, browser, reader):  # noqa: F811
    url, _ = site
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        w = Watched(context.new_page())
        w.page.set_default_timeout(15_000)
        for path in PUBLIC_PAGES:
            w.visit(url + path)
        w.visit(f"{url}/papers", "article.card")
        assert w.style(".rank", "display") == "none"
        assert len(w.style("article.card", "grid-template-columns").split()) == 2
        log_in(w, url, "dora")
        w.visit(f"{url}/for-you", "main")
        w.visit(f"{url}/papers", "main .vote-form")
        w.page.locator("main .vote-form button").first.tap()
        expect(w.page.locator("main .vote-form button").first).to_have_class(re.compile(r"\bvoted\b"))
        assert re.fullmatch(r"\d+px", w.style("main .vote-form button.votes", "width"))
        assert w.problems == []
    finally:
        context.close()
