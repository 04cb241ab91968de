"""Email digests, the web side: the footer form, double opt-in, signed links to preferences, preview and
one-click unsubscribe, the settings page, and the staff outbox page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from paperboard.digests import links, sending
from paperboard.digests.models import SentPaper, Subscription
from tests.digests_support import NOW, link_in, on_feed, smtp_mail, subscriber  # noqa: F401 (fixture)
from tests.smtp import smtp_server  # noqa: F401  (the fixture)


def tampered(token: str) -> str:
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


# ---------------------------------------------------------------- subscribing


def test_every_page_has_the_subscribe_form_in_its_footer_without_a_csrf_token(client, db):
    on_feed(1)
    for path in ("/papers", "/papers/trending", "/accounts/login"):
        page = client.get(path).content.decode()
        footer = page[page.index("<footer"):]
        assert 'action="/digest/subscribe"' in footer and 'name="email"' in footer, path
        assert "csrfmiddlewaretoken" not in footer  # anonymous pages are cached and shared
        assert "{#" not in footer and "{%" not in footer


def test_the_footer_form_lands_on_a_csrf_protected_form_with_the_address_filled_in(client, db):
    page = client.get("/digest/subscribe", {"email": "ada@example.org"}).content.decode()
    assert 'value="ada@example.org"' in page and "csrfmiddlewaretoken" in page
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/digest/subscribe", {"email": "ada@example.org"}).status_code == 403
    assert not Subscription.objects.exists()


def test_double_opt_in_sends_only_the_confirmation_until_the_link_is_clicked(client, db, smtp_mail):
    on_feed(3, day=timezone.localdate().isoformat())
    r = client.post("/digest/subscribe", {"email": "Ada@Example.org "})
    assert r.status_code == 200 and b"Check your inbox" in r.content
    (confirmation,) = smtp_mail.wait_for(1)
    assert confirmation["To"] == "ada@example.org"
    assert "Confirm" in confirmation["Subject"] and confirmation.get_body(("html",)) is not None
    subscription = Subscription.objects.get(email="ada@example.org")
    assert subscription.confirmed_at is None

    # Nothing is sent before the click, however late it gets.
    assert sending.send_due(now=NOW + dt.timedelta(days=10)).scheduled == 0
    path = link_in(confirmation, "/digest/confirm/")
    page = client.get(path)  # a link checker opening the link confirms nothing
    assert page.status_code == 200 and b"Yes, subscribe" in page.content
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    assert sending.send_due(now=NOW + dt.timedelta(days=10)).scheduled == 0
    assert len(smtp_mail.messages) == 1

    confirmed = client.post(path)
    assert confirmed.status_code == 200 and b"You are subscribed" in confirmed.content
    subscription.refresh_from_db()
    assert subscription.confirmed and subscription.next_due_at > timezone.now()
    report = sending.send_due(now=subscription.next_due_at)
    assert (report.scheduled, report.sent) == (1, 1)
    digest = smtp_mail.wait_for(2)[1]
    assert digest["To"] == "ada@example.org" and "List-Unsubscribe" in digest


def test_subscribing_an_existing_address_shows_the_same_page_and_only_the_mailbox_learns(client, db):
    subscriber("known@example.org")
    new = client.post("/digest/subscribe", {"email": "new@example.org"})
    known = client.post("/digest/subscribe", {"email": "known@example.org"})
    assert (new.status_code, new.content) == (known.status_code, known.content)
    to_new, to_known = mail.outbox
    assert "/digest/confirm/" in to_new.body
    assert "already" in to_known.body and "/digest/preferences/" in to_known.body
    assert Subscription.objects.count() == 2


def test_a_suppressed_address_gets_no_mail_and_the_same_page(client, db):
    gone = subscriber("gone@example.org")
    Subscription.objects.filter(pk=gone.pk).update(suppressed_at=NOW)
    r = client.post("/digest/subscribe", {"email": "gone@example.org"})
    assert r.status_code == 200 and b"Check your inbox" in r.content
    assert mail.outbox == []


@pytest.mark.parametrize("value", ["", "not-an-address", "a@b@c", "x" * 250 + "@example.org"])
def test_a_bad_address_gives_a_message_not_an_error(client, db, value):
    r = client.post("/digest/subscribe", {"email": value})
    assert r.status_code == 400
    assert b"errorlist" in r.content
    assert not Subscription.objects.exists() and mail.outbox == []


def test_subscribing_is_rate_limited_per_ip(client, db, settings):
    settings.PAPERBOARD_RATELIMIT_ENABLED = True
    codes = [client.post("/digest/subscribe", {"email": f"r{i}@example.org"}).status_code for i in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_one_address_gets_at_most_three_confirmation_mails_a_day(db, settings):
    settings.PAPERBOARD_RATELIMIT_ENABLED = True
    for i in range(5):  # from different clients, so the per-IP limit does not stop it first
        Client(REMOTE_ADDR=f"10.0.0.{i}").post("/digest/subscribe", {"email": "flooded@example.org"})
    assert len(mail.outbox) == 3


def test_an_expired_confirmation_link_does_not_confirm(client, db, monkeypatch):
    subscription = Subscription.objects.create(email="late@example.org")
    path = links.confirm_path(subscription)
    monkeypatch.setattr(links, "CONFIRM_MAX_AGE", -1)
    assert client.post(path).status_code == 404
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None


# ---------------------------------------------------------------- signed links


@pytest.mark.parametrize("kind", ["preferences", "preview", "unsubscribe", "confirm"])
def test_a_tampered_or_foreign_link_is_a_404_page_not_an_error(client, db, kind):
    subscription = subscriber("ada@example.org")
    token = links.confirm_token(subscription) if kind == "confirm" else links.manage_token(subscription)
    other = links.manage_token(subscription) if kind == "confirm" else links.confirm_token(subscription)
    for bad in (tampered(token), "nonsense", other, token.split(":")[0], "%00"):
        for method in ("get", "post"):
            r = getattr(client, method)(f"/digest/{kind}/{bad}")
            assert r.status_code in (404, 405), (bad, method, r.status_code)
    subscription.refresh_from_db()
    assert subscription.active


def test_a_link_for_a_deleted_subscription_is_a_404(client, db):
    subscription = subscriber("ada@example.org")
    path = links.preferences_path(subscription)
    subscription.delete()
    assert client.get(path).status_code == 404


def test_the_preferences_page_opens_from_the_signed_link_and_saves(client, db):
    subscription = subscriber("ada@example.org")
    path = links.preferences_path(subscription)
    page = client.get(path)
    assert page.status_code == 200 and b"ada@example.org" in page.content
    assert page["Cache-Control"] == "no-store"
    assert b"For you" not in page.content  # no account: no For you section to choose
    r = client.post(path, {
        "frequency": "weekly", "sections": ["trending"], "categories": "cs.lg, math",
        "topics": "diffusion models\n\n  author:Lovelace  ", "max_papers": "5", "min_upvotes": "2",
    })
    assert r.status_code == 302 and r["Location"] == path
    subscription.refresh_from_db()
    assert subscription.frequency == "weekly" and not subscription.paused
    assert subscription.preferences == {
        "sections": ["trending"], "categories": ["cs.LG", "math"], "topics": ["diffusion models", "author:Lovelace"],
        "max_papers": 5, "min_upvotes": 2,
    }
    assert subscription.next_due_at.weekday() == 0  # a new frequency: the next Monday


@pytest.mark.parametrize("field, value, message", [
    ("max_papers", "0", b"greater than or equal to 1"),
    ("max_papers", "lots", b"Enter a whole number"),
    ("max_papers", "51", b"less than or equal to 50"),
    ("min_upvotes", "-1", b"greater than or equal to 0"),
    ("frequency", "hourly", b"Select a valid choice"),
    ("sections", "everything", b"Select a valid choice"),
    ("categories", "cs.LG not/a/category", b"Not an arXiv category"),
    ("topics", "\n".join(f"topic {i}" for i in range(11)), b"At most 10 topics"),
    ("topics", "x" * 201, b"at most 200 characters"),
    ("topics", "-", b"searches for nothing"),
])
def test_bad_preference_fields_give_messages_not_errors(client, db, field, value, message):
    subscription = subscriber("ada@example.org")
    data = {"frequency": "daily", "max_papers": "10", "min_upvotes": "0", field: value}
    r = client.post(links.preferences_path(subscription), data)
    assert r.status_code == 400
    assert message in r.content
    subscription.refresh_from_db()
    assert subscription.frequency == "weekdays"


def test_pausing_and_resuming_moves_the_next_digest_to_the_next_send_time(client, db):
    subscription = subscriber("ada@example.org", due=NOW - dt.timedelta(days=3))
    path = links.preferences_path(subscription)
    base = {"frequency": "weekdays", "sections": ["top"], "max_papers": "10", "min_upvotes": "0"}
    client.post(path, {**base, "paused": "on"})
    assert sending.send_due(now=NOW).scheduled == 0  # paused: not due, however late
    client.post(path, base)
    subscription.refresh_from_db()
    assert not subscription.paused and subscription.next_due_at > timezone.now()


def test_the_preview_shows_the_next_digest_and_records_nothing(client, db):
    papers = on_feed(3, day=timezone.localdate().isoformat())
    subscription = subscriber("ada@example.org")
    r = client.get(links.preview_path(subscription))
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    body = r.content.decode()
    assert "Preview of your next digest" in body
    assert all(p.title in body for p in papers)
    assert not SentPaper.objects.exists()


def test_one_click_unsubscribe_is_a_post_without_csrf_token_and_get_only_asks(db):
    subscription = subscriber("ada@example.org")
    path = links.unsubscribe_path(subscription)
    strict = Client(enforce_csrf_checks=True)  # what a mail provider's one-click POST looks like
    asked = strict.get(path)
    assert asked.status_code == 200 and b"Unsubscribe" in asked.content
    subscription.refresh_from_db()
    assert subscription.active
    r = strict.post(path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200 and b"You are unsubscribed" in r.content
    subscription.refresh_from_db()
    assert not subscription.active and subscription.next_due_at is None
    assert strict.post(path).status_code == 200  # again: still fine
    assert sending.send_due(now=NOW + dt.timedelta(days=7)).scheduled == 0


def test_other_digest_posts_still_need_the_csrf_token(db):
    subscription = subscriber("ada@example.org")
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(links.preferences_path(subscription), {"frequency": "daily"}).status_code == 403
    assert strict.post(links.confirm_path(subscription)).status_code == 403


def test_an_unsubscribed_reader_can_come_back_from_the_preferences_link(client, db):
    subscription = subscriber("ada@example.org")
    client.post(links.unsubscribe_path(subscription))
    path = links.preferences_path(subscription)
    assert b"Subscribe again" in client.get(path).content
    client.post(path, {"action": "resubscribe"})
    subscription.refresh_from_db()
    assert subscription.active and subscription.next_due_at > timezone.now()


# ---------------------------------------------------------------- accounts


def test_a_logged_in_user_subscribes_the_confirmed_address_from_settings(client, alice):
    client.force_login(alice)
    page = client.get("/accounts/settings").content.decode()
    assert 'id="digest"' in page and "/digest/subscribe/account" in page
    r = client.post("/digest/subscribe/account")
    assert r.status_code == 302 and r["Location"] == "/accounts/settings#digest"
    subscription = Subscription.objects.get()
    assert (subscription.email, subscription.user, subscription.active) == ("alice@example.org", alice, True)
    assert "for_you" in subscription.preferences["sections"]
    assert mail.outbox == []  # the account's confirmed address needs no second confirmation
    page = client.get("/accounts/settings").content.decode()
    assert links.preferences_path(subscription) in page
    prefs = client.get(links.preferences_path(subscription)).content.decode()
    assert "For you" in prefs


def test_an_earlier_anonymous_subscription_of_the_same_address_becomes_the_accounts(client, alice):
    anonymous = subscriber("alice@example.org", frequency="daily")
    client.force_login(alice)
    client.post("/digest/subscribe/account")
    anonymous.refresh_from_db()
    assert anonymous.user == alice and anonymous.frequency == "daily" and Subscription.objects.count() == 1


def test_an_unconfirmed_account_cannot_subscribe_its_address(client, charlie):
    client.force_login(charlie)
    assert b"confirm yours first" in client.get("/accounts/settings").content
    client.post("/digest/subscribe/account")
    assert not Subscription.objects.exists()


def test_deleting_the_account_deletes_its_subscription(client, alice):
    client.force_login(alice)
    client.post("/digest/subscribe/account")
    alice.delete()
    assert not Subscription.objects.exists()


# ---------------------------------------------------------------- the outbox page


@pytest.fixture
def outbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"
    return tmp_path / "outbox"


def test_the_outbox_page_lists_and_shows_mails_for_staff_only(client, admin, alice, outbox):
    on_feed(2)
    subscriber("ada@example.org")
    subscriber("bob@example.org")
    assert sending.send_due(now=NOW).sent == 2
    (written,) = list(outbox.iterdir())  # one connection for the run: one file
    assert client.get("/digest/outbox").status_code == 302  # to the login page
    client.force_login(alice)
    assert client.get("/digest/outbox").status_code == 403
    client.force_login(admin)
    index = client.get("/digest/outbox").content.decode()
    assert written.name in index
    page = client.get(f"/digest/outbox/{written.name}").content.decode()
    assert "ada@example.org" in page and "bob@example.org" in page
    assert "List-Unsubscribe" in page and "sandbox" in page
    second = client.get(f"/digest/outbox/{written.name}", {"m": "1"}).content.decode()
    assert "bob@example.org" in second
    for bad in ("../settings.py", "nope.log", "..%2F..%2Fetc%2Fpasswd"):
        assert client.get(f"/digest/outbox/{bad}").status_code == 404
