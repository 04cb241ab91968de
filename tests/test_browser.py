"""End to end in a real browser (Debian's chromium driven by Playwright) against a live server, with mail
through a real SMTP server (aiosmtpd). Skipped, with the reason, only where chromium is not installed;
.ci/run installs it.

Set PAPERBOARD_SCREENSHOTS=docs/img to refresh the README's screenshots while the flow runs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import make_paper, make_user, put_on_feed
from tests.smtp import smtp_server  # noqa: F401  (the fixture)

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (apt-get install chromium)")
# Playwright's sync API runs an event loop in this thread; the ORM calls below are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


@pytest.fixture
def site(live_server, smtp_server, settings):  # noqa: F811 - the smtp_server fixture
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.BASE_URL = live_server.url
    settings.PAPERBOARD_RATELIMIT_ENABLED = False
    return live_server.url, smtp_server


def shoot(page, name: str) -> None:
    target = os.environ.get("PAPERBOARD_SCREENSHOTS")
    if target:
        out = ROOT / target
        out.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(out / f"{name}.png"), full_page=False)


def test_a_newcomer_signs_up_confirms_submits_upvotes_comments_and_sees_it_on_the_feed(site, page, transactional_db):
    url, smtp = site
    recent = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    make_paper("2511.01234", "Sparse Mixtures of Reasoning Experts", published=recent,
               authors=("Grace Hopper", "Edsger Dijkstra"))
    today = timezone.localdate().isoformat()
    for i, (title, votes) in enumerate([("Scaling Test-Time Compute for Small Language Models", 3),
                                        ("A Benchmark for Long-Context Retrieval", 2),
                                        ("Diffusion Policies for Dexterous Manipulation", 0)]):
        put_on_feed(make_paper(f"2511.0{i}999", title, published=recent, categories=("cs.LG", "cs.CL")), today,
                    votes=votes)

    # Sign up, then confirm through the link in the mail the SMTP server caught.
    page.goto(f"{url}/accounts/signup")
    page.fill("input[name=username]", "dora")
    page.fill("input[name=email]", "dora@example.org")
    page.fill("input[name=password]", "a long enough passphrase")
    page.click("form button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    message = smtp.wait_for(1, timeout=10)[0]
    assert message["To"] == "dora@example.org"
    link = re.search(r"https?://\S+/accounts/confirm/\S+", message.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    page.wait_for_selector("text=Address confirmed")

    # Log out and in again through the forms.
    page.click("header form button:has-text('Log out')")
    page.wait_for_selector("header >> text=Log in")
    page.goto(f"{url}/accounts/login")
    page.fill("input[name=login]", "dora@example.org")
    page.fill("input[name=password]", "a long enough passphrase")
    page.click("main form button[type=submit]")
    page.wait_for_selector("header >> text=dora")

    # Submit the paper by its arXiv URL.
    page.goto(f"{url}/papers/submit")
    page.fill("input[name=id]", "https://arxiv.org/abs/2511.01234v1")
    page.fill("textarea[name=note], input[name=note]", "Worth a read")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/papers/2511\.01234$"))
    assert "Sparse Mixtures of Reasoning Experts" in page.inner_text("h1")

    # Upvote without a page reload (htmx swaps the button in place).
    page.evaluate("window.__same_page = true")
    vote = page.locator("main .vote-form").first
    assert vote.locator(".count").inner_text() == "0"
    vote.locator("button").click()
    # expect(), not page.wait_for_function: that evaluates a string in the page, which the site's CSP refuses.
    expect(page.locator("main .vote-form .count").first).to_have_text("1")
    assert page.evaluate("window.__same_page") is True

    # Comment.
    page.fill("textarea[name=body]", "Clear write-up, and the **code** is linked.")
    page.click("#discuss form[action$='/comments'] button[type=submit]")
    page.wait_for_selector("text=Clear write-up")
    assert page.locator("#discuss strong:has-text('code')").count() >= 1
    shoot(page, "paper")

    # It is on today's feed with its vote and comment.
    page.goto(f"{url}/papers")
    card = page.locator("article.card", has_text="Sparse Mixtures of Reasoning Experts")
    assert card.locator(".count").inner_text() == "1"
    assert "1 comment" in card.inner_text()
    shoot(page, "feed")

    page.click("header form button:has-text('Log out')")
    page.wait_for_selector("header >> text=Log in")
    assert page.dialogs == []


def test_hostile_markup_in_comments_names_and_notes_never_runs_in_the_browser(site, page, transactional_db):
    from paperboard.accounts.models import profile_of
    from paperboard.community import comments
    from paperboard.papers.models import Submission

    url, _ = site
    payloads = [
        '<script>window.__xss = "script"; alert(1)</script>',
        '<img src=x onerror="window.__xss = \'img\'; alert(2)">',
        '[click me](javascript:window.__xss="link";alert(3))',
        '<a href="javascript:alert(4)">js link</a>',
        '<svg onload="window.__xss = \'svg\'; alert(5)"></svg>',
        '<iframe src="javascript:alert(6)"></iframe>',
        '<p style="background:url(javascript:alert(7))">styled</p>',
        '"><script>alert(8)</script>',
        '<details open ontoggle="window.__xss = \'details\'; alert(9)">x</details>',
        '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4=)',
    ]
    evil = make_user(
        "mallory", email="m@example.org", password="a long enough passphrase", joined=None,
        first_name='<img src=x onerror="window.__xss=\'name\';alert(11)">', last_name="<script>alert(12)</script>")
    profile = profile_of(evil)
    profile.bio = '<script>window.__xss="bio";alert(13)</script>'
    profile.save()
    paper = make_paper("2511.04321", "A paper under attack")
    Submission.objects.create(paper=paper, day=timezone.localdate(), submitted_at=timezone.now(), submitter=evil,
                              note='<img src=x onerror="window.__xss=\'note\';alert(14)">')
    for body in payloads:
        comments.post(evil, paper, body)
    comments.post(evil, paper, "@mallory " + payloads[1])

    for path in ["/papers/2511.04321", "/papers", "/u/mallory", "/papers/2511.04321.json"]:
        page.goto(url + path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # give any injected handler a chance to fire
        assert page.evaluate("window.__xss") is None, path
        assert page.dialogs == [], (path, page.dialogs)
    # The text is still there, shown as text or dropped, never as live markup.
    page.goto(url + "/papers/2511.04321")
    assert page.locator("#discuss script").count() == 0
    assert page.locator("#discuss [onerror], #discuss [onload], #discuss [ontoggle], #discuss iframe").count() == 0
    hrefs = page.eval_on_selector_all("#discuss a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))]
