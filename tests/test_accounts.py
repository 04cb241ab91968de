"""Accounts: sign-up and confirmation, log in/out, password reset, deletion, profiles, settings, API tokens.

Personas: alice and bob (confirmed users), carol (the anonymous `client`), an admin (`admin_client`).
"""

from __future__ import annotations

import re
import types

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, override_settings

from paperboard import ratelimit
from paperboard import settings as project_settings
from paperboard.accounts import confirmation, tokens
from paperboard.accounts.models import ApiToken, Profile, profile_of
from paperboard.accounts.status import check_can_write
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper, Vote
from tests.conftest import PASSWORD, api_token, as_user, ban, bearer, make_paper, put_on_feed
from tests.smtp import smtp_server  # noqa: F401  (the fixture)

User = get_user_model()
PROJECT_HASHERS = list(project_settings.PASSWORD_HASHERS)
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def bob_client(bob):
    return as_user(bob)


def link_in(message, path_prefix: str) -> str:
    """The path of the first absolute link starting with BASE_URL + `path_prefix` in a mail's text body."""
    from django.conf import settings

    body = message.body if hasattr(message, "body") else message.get_body(("plain",)).get_content()
    found = re.search(re.escape(settings.BASE_URL) + r"(" + re.escape(path_prefix) + r"[^\s]*)", body)
    assert found, f"no {path_prefix} link in:\n{body}"
    return found.group(1)


def without_csrf(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', html)


def signup(client, username="dave", email="dave@example.org", password=PASSWORD):
    return client.post("/accounts/signup", {"username": username, "email": email, "password": password})


# ---------------------------------------------------------------- sign-up and confirmation


def test_signup_creates_an_unconfirmed_user_and_mails_a_link_that_confirms_and_logs_in(client, db):
    r = signup(client)
    assert r.status_code == 200 and "Check your inbox" in r.content.decode()
    dave = User.objects.get(username="dave")
    assert dave.email == "dave@example.org" and not profile_of(dave).confirmed
    # Not logged in by sign-up itself: that would tell a prober the address was new.
    assert client.get("/accounts/settings").status_code == 302

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dave@example.org"] and "Confirm" in message.subject
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    path = link_in(message, "/accounts/confirm/")
    assert path in message.alternatives[0][0]

    r = client.get(path)  # in the browser that signed up
    assert r.status_code == 200 and "Address confirmed" in r.content.decode()
    assert profile_of(User.objects.get(pk=dave.pk)).confirmed
    assert client.get("/accounts/settings").status_code == 200  # the link logged dave in


def confirmation_link(client, username="dave", email="dave@example.org"):
    """Sign up in `client` and return the confirmation link from the mail."""
    mail.outbox.clear()
    signup(client, username=username, email=email)
    (message,) = mail.outbox
    return link_in(message, "/accounts/confirm/")


def test_a_confirmation_link_works_once_and_a_second_click_logs_nobody_in(client, db):
    path = confirmation_link(client)
    assert client.get(path).status_code == 200
    assert client.post("/accounts/logout").status_code == 302

    for browser in (client, Client()):  # the same browser after logging out, and another one
        r = browser.get(path)
        assert r.status_code == 400 and "This link was already used" in r.content.decode()
        assert browser.get("/accounts/settings").status_code == 302  # not logged in


def test_a_confirmation_link_stops_working_when_the_password_changes(client, db):
    path = confirmation_link(client)
    dave = User.objects.get(username="dave")
    dave.set_password(NEW_PASSWORD)
    dave.save()

    r = client.get(path)
    assert r.status_code == 400 and "This link does not work" in r.content.decode()
    assert not profile_of(User.objects.get(pk=dave.pk)).confirmed
    assert client.get("/accounts/settings").status_code == 302


def test_a_confirmation_link_opened_in_another_browser_confirms_but_does_not_log_in(client, db):
    path = confirmation_link(client)
    other = Client()
    r = other.get(path, follow=True)
    assert r.redirect_chain == [("/accounts/login", 302)]
    assert "Your address is confirmed. Log in to continue." in r.content.decode()
    assert profile_of(User.objects.get(username="dave")).confirmed
    assert other.get("/accounts/settings").status_code == 302  # no session for dave there
    assert "_auth_user_id" not in other.session
    # The signing-up browser, whose link was used by the other one, is logged in by it once.
    assert client.get(path).status_code == 200
    assert client.get("/accounts/settings").status_code == 200
    assert Client().get(path).status_code == 400


def test_a_confirmation_link_opened_by_the_logged_in_owner_elsewhere_confirms_in_place(client, db):
    path = confirmation_link(client)
    laptop = Client()
    assert laptop.post("/accounts/login", {"login": "dave", "password": PASSWORD}).status_code == 302
    r = laptop.get(path)
    assert r.status_code == 200 and "Address confirmed" in r.content.decode()
    assert profile_of(User.objects.get(username="dave")).confirmed


def test_the_password_is_hashed_with_argon2(client, db):
    with override_settings(PASSWORD_HASHERS=PROJECT_HASHERS):
        signup(client)
        dave = User.objects.get(username="dave")
        assert dave.password.startswith("argon2$argon2id$")
        assert dave.check_password(PASSWORD)


def test_signup_with_a_registered_email_shows_the_same_page_creates_nothing_and_warns_the_owner(alice):
    fresh = signup(Client(), username="dave", email="dave@example.org")
    probe = signup(Client(), username="mallory", email="ALICE@example.org")  # alice's, in other case

    assert probe.status_code == fresh.status_code == 200
    assert without_csrf(probe.content.decode()) == without_csrf(fresh.content.decode())
    assert set(probe.cookies) == set(fresh.cookies)
    assert not User.objects.filter(username="mallory").exists()
    assert User.objects.filter(email__iexact="alice@example.org").count() == 1

    warning = mail.outbox[-1]
    assert warning.to == ["alice@example.org"] and "tried to sign up" in warning.subject
    reset = link_in(warning, "/accounts/password-reset/")
    r = Client().get(reset, follow=True)
    assert r.status_code == 200 and "Choose a new password" in r.content.decode()


def test_signup_says_when_a_username_is_taken_and_shows_field_errors(client, alice):
    r = signup(client, username="Alice", email="new@example.org")
    assert r.status_code == 200 and "This username is taken." in r.content.decode()
    r = client.post("/accounts/signup", {"username": "a b", "email": "not-an-email", "password": "123"})
    html = r.content.decode()
    assert r.status_code == 200 and html.count('class="errorlist') >= 3
    assert User.objects.count() == 1 and not mail.outbox


def test_a_tampered_or_expired_confirmation_link_is_refused(client, alice):
    profile = profile_of(alice)
    profile.email_confirmed_at = None
    profile.save()
    token = confirmation.make_token(alice)
    assert client.get(f"/accounts/confirm/{token}x").status_code == 400
    assert confirmation.user_for_token(token, max_age=-1) is None  # expired
    alice.email = "alice@elsewhere.org"
    alice.save()
    assert client.get(f"/accounts/confirm/{token}").status_code == 400  # the address changed since
    assert not profile_of(User.objects.get(pk=alice.pk)).confirmed


def test_an_unconfirmed_user_can_have_the_confirmation_mail_sent_again(client, db):
    signup(client)
    mail.outbox.clear()
    assert client.post("/accounts/login", {"login": "dave", "password": PASSWORD}).status_code == 302
    assert "not confirmed yet" in client.get("/accounts/confirm").content.decode()
    r = client.post("/accounts/confirm", follow=True)
    assert r.status_code == 200 and "We sent a new confirmation link" in r.content.decode()
    assert len(mail.outbox) == 1
    client.get(link_in(mail.outbox[0], "/accounts/confirm/"))
    assert profile_of(User.objects.get(username="dave")).confirmed


# ---------------------------------------------------------------- log in and out


@pytest.mark.parametrize("login", ["alice", "alice@example.org", "ALICE@Example.org"])
def test_login_with_username_or_email(client, alice, login):
    r = client.post("/accounts/login", {"login": login, "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/papers"
    assert client.get("/accounts/settings").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_generic_error(client, alice):
    wrong = client.post("/accounts/login", {"login": "alice", "password": "nope nope nope"})
    unknown = client.post("/accounts/login", {"login": "zed@example.org", "password": PASSWORD})
    for r in (wrong, unknown):
        assert r.status_code == 200 and "Wrong username/email or password." in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_follows_a_local_next_and_refuses_an_offsite_one(client, alice):
    r = client.post("/accounts/login?next=/papers/week/2025-W02", {"login": "alice", "password": PASSWORD})
    assert r["Location"] == "/papers/week/2025-W02"
    for evil in ("https://evil.example/x", "//evil.example/x", "/\\evil.example"):
        c = Client()
        r = c.post("/accounts/login", {"login": "alice", "password": PASSWORD, "next": evil})
        assert r.status_code == 302 and r["Location"] == "/papers", evil


def test_a_banned_user_cannot_log_in(client, alice):
    ban(alice)
    r = client.post("/accounts/login", {"login": "alice", "password": PASSWORD})
    assert r.status_code == 200 and "banned" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only(alice_client):
    assert alice_client.get("/accounts/logout").status_code == 405
    assert alice_client.get("/accounts/settings").status_code == 200
    r = alice_client.post("/accounts/logout")
    assert r.status_code == 302 and r["Location"] == "/papers"
    assert alice_client.get("/accounts/settings").status_code == 302


# ---------------------------------------------------------------- password reset and change


def test_password_reset_mails_a_link_that_sets_a_new_password(client, alice):
    r = client.post("/accounts/password-reset", {"email": "Alice@example.org"})
    assert r.status_code == 302 and r["Location"] == "/accounts/password-reset/sent"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.org"]
    path = link_in(mail.outbox[0], "/accounts/password-reset/")
    assert mail.outbox[0].alternatives[0][1] == "text/html"

    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "errorlist" in weak.content.decode()
    r = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/accounts/password-reset/done"
    assert User.objects.get(pk=alice.pk).check_password(NEW_PASSWORD)
    assert "does not work" in client.get(path, follow=True).content.decode()  # one use only


def test_password_reset_does_not_tell_whether_an_address_is_registered(client, alice):
    known = client.post("/accounts/password-reset", {"email": "alice@example.org"})
    unknown = client.post("/accounts/password-reset", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


def test_password_change_needs_the_old_password(alice_client, alice):
    r = alice_client.post("/accounts/password-change", {
        "old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert r.status_code == 200 and "errorlist" in r.content.decode()
    r = alice_client.post("/accounts/password-change", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert r.status_code == 302 and User.objects.get(pk=alice.pk).check_password(NEW_PASSWORD)
    assert alice_client.get("/accounts/settings").status_code == 200  # still logged in


# ---------------------------------------------------------------- account deletion


def test_deleting_an_account_takes_its_votes_out_of_the_paper_counts(alice_client, alice, bob):
    both = make_paper("2501.00001", "Voted by both")
    only_alice = make_paper("2501.00002", "Voted by alice")
    only_bob = make_paper("2501.00003", "Voted by bob")
    Paper.objects.filter(pk=both.pk).update(imported_upvotes=5)
    put_on_feed(both, "2025-01-10", user=alice)
    put_on_feed(only_alice, "2025-01-10")
    put_on_feed(only_bob, "2025-01-10")
    for user, paper in ((alice, both), (bob, both), (alice, only_alice), (bob, only_bob)):
        Vote.objects.create(user=user, paper=paper)
    for p in Paper.objects.all():  # as the vote feature keeps them: imported + local votes
        Paper.objects.filter(pk=p.pk).update(upvotes=p.imported_upvotes + p.votes.count())
    assert Paper.objects.get(pk=both.pk).upvotes == 5 + 2
    version = freshness.data_version()

    r = alice_client.post("/accounts/delete", {"password": "not it"})
    assert r.status_code == 400 and "That is not your password." in r.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()

    r = alice_client.post("/accounts/delete", {"password": PASSWORD})
    assert r.status_code == 302
    assert not User.objects.filter(username="alice").exists()
    assert not Profile.objects.filter(user_id=alice.pk).exists()
    assert {p.title: p.upvotes for p in Paper.objects.all()} == {
        "Voted by both": 5 + 1, "Voted by alice": 0, "Voted by bob": 1}
    assert Paper.objects.get(pk=both.pk).submission.submitter is None  # the paper stays on the feed
    assert freshness.data_version() > version
    assert alice_client.get("/accounts/settings").status_code == 302  # logged out


def test_deleting_a_user_any_other_way_also_fixes_the_counts(alice, bob):
    paper = make_paper("2501.00009", "Voted by both")
    put_on_feed(paper, "2025-01-10")
    for user in (alice, bob):
        Vote.objects.create(user=user, paper=paper)
    Paper.objects.filter(pk=paper.pk).update(upvotes=2)
    bob.delete()  # as the Django admin or a script would
    assert Paper.objects.get(pk=paper.pk).upvotes == 1


# ---------------------------------------------------------------- profiles


@pytest.fixture
def alice_activity(alice, bob):
    mine = make_paper("2501.00011", "Alice submitted this")
    liked_old = make_paper("2501.00012", "Alice liked this first")
    liked_new = make_paper("2501.00013", "Alice liked this last")
    put_on_feed(mine, "2025-01-10", user=alice)
    put_on_feed(liked_old, "2025-01-10", user=bob)
    Vote.objects.create(user=alice, paper=liked_old)
    Vote.objects.create(user=alice, paper=liked_new)  # not on the feed: still listed
    profile = profile_of(alice)
    profile.bio = "I read <b>papers</b>."
    profile.save()
    alice.first_name = "Alice Liddell"
    alice.save()


def test_the_profile_page_lists_submitted_and_upvoted_papers_newest_first(client, alice_activity):
    r = client.get("/u/alice")
    html = r.content.decode()
    assert r.status_code == 200
    assert "Alice Liddell" in html and "I read &lt;b&gt;papers&lt;/b&gt;." in html and "joined" in html
    submitted, upvoted = html.split('id="upvoted"')
    assert "Alice submitted this" in submitted
    assert upvoted.index("Alice liked this last") < upvoted.index("Alice liked this first")
    assert 'href="/u/alice.json"' in html


def test_the_profile_json_has_the_same_lists(client, alice_activity):
    data = client.get("/u/alice.json").json()
    assert data["user"]["user"] == "alice" and data["user"]["fullname"] == "Alice Liddell"
    assert data["user"]["bio"] == "I read <b>papers</b>."
    assert [i["paper"]["id"] for i in data["submitted"]] == ["2501.00011"]
    assert [i["paper"]["id"] for i in data["upvoted"]] == ["2501.00013", "2501.00012"]
    assert data["upvoted"][1]["paper"]["submittedOnDailyBy"]["user"] == "bob"
    assert client.get("/u/alice?format=json").json() == data


def test_an_unknown_profile_is_404(client, db):
    assert client.get("/u/nobody").status_code == 404
    r = client.get("/u/nobody.json")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


# ---------------------------------------------------------------- settings and API tokens


def test_anonymous_carol_is_sent_to_login_from_settings(client, db):
    for path in ("/accounts/settings", "/accounts/delete", "/accounts/confirm"):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"] == f"/accounts/login?next={path}"


def test_settings_change_full_name_and_bio_and_show_confirmation(alice_client, alice):
    html = alice_client.get("/accounts/settings").content.decode()
    assert "confirmed on" in html
    r = alice_client.post("/accounts/settings", {"full_name": "Alice P. Liddell", "bio": "Hello"})
    assert r.status_code == 302
    alice.refresh_from_db()
    assert alice.get_full_name() == "Alice P. Liddell" and profile_of(alice).bio == "Hello"
    r = alice_client.post("/accounts/settings", {"full_name": "x", "bio": "b" * 2001})
    assert r.status_code == 400 and "errorlist" in r.content.decode()


def test_a_new_token_is_shown_once_and_authenticates_bearer_requests_until_revoked(alice_client, alice, rf):
    r = alice_client.post("/accounts/settings/tokens", {"name": "laptop"})
    assert r.status_code == 201
    token = re.search(r'value="(pb_[^"]+)"', r.content.decode()).group(1)
    row = ApiToken.objects.get(user=alice, name="laptop")
    assert row.digest == ApiToken.hash(token) and token.startswith(row.prefix)

    listing = alice_client.get("/accounts/settings").content.decode()
    assert "laptop" in listing and row.prefix in listing and token not in listing

    request = rf.get("/api/x", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert tokens.user_from_request(request) == alice
    assert ApiToken.objects.get(pk=row.pk).last_used_at is not None
    for header in ("", "Bearer", f"Basic {token}", f"Bearer {token}x", "Bearer pb_nope"):
        assert tokens.user_from_request(rf.get("/api/x", HTTP_AUTHORIZATION=header)) is None, header
    assert tokens.user_from_request(rf.get("/api/x")) is None

    r = alice_client.post(f"/accounts/settings/tokens/{row.pk}/revoke")
    assert r.status_code == 302
    assert tokens.user_from_request(request) is None
    assert f'id="token-{row.pk}"' not in alice_client.get("/accounts/settings").content.decode()


def test_tokens_of_inactive_users_fail_and_banned_users_are_named_but_may_not_write(alice, rf):
    request = rf.get("/api/x", **bearer(api_token(alice, "script")))
    ban(alice)
    user = tokens.user_from_request(request)
    assert user == alice
    with pytest.raises(Refused) as refused:
        check_can_write(user)
    assert refused.value.code == "banned" and refused.value.status == 403
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert tokens.user_from_request(request) is None


def test_bob_cannot_revoke_alices_token(bob_client, alice):
    row, token = ApiToken.issue(alice, "laptop")
    assert bob_client.post(f"/accounts/settings/tokens/{row.pk}/revoke").status_code == 404
    assert ApiToken.objects.get(pk=row.pk).revoked_at is None
    assert Client().post(f"/accounts/settings/tokens/{row.pk}/revoke").status_code == 302  # to login


def test_a_token_needs_a_name(alice_client, alice):
    r = alice_client.post("/accounts/settings/tokens", {"name": "  "})
    assert r.status_code == 400 and "errorlist" in r.content.decode()
    assert not ApiToken.objects.filter(user=alice).exists()


# ---------------------------------------------------------------- CSRF, rate limits, admin, bad input


@pytest.mark.parametrize("path,logged_in", [
    ("/accounts/signup", False),
    ("/accounts/login", False),
    ("/accounts/password-reset", False),
    ("/accounts/settings", True),
    ("/accounts/settings/tokens", True),
    ("/accounts/delete", True),
    ("/accounts/logout", True),
])
def test_posts_without_a_csrf_token_are_refused(alice, path, logged_in):
    c = Client(enforce_csrf_checks=True)
    if logged_in:
        c.force_login(alice)
    r = c.post(path, {"name": "x", "password": PASSWORD, "login": "alice", "email": "a@example.org"})
    assert r.status_code == 403
    assert User.objects.filter(username="alice").exists() and not ApiToken.objects.exists()


@pytest.mark.parametrize("path", ["/accounts/signup", "/accounts/login", "/accounts/password-reset"])
def test_every_form_page_renders_with_a_csrf_token(client, db, path):
    r = client.get(path)
    assert r.status_code == 200 and 'name="csrfmiddlewaretoken"' in r.content.decode()


@override_settings(PAPERBOARD_RATELIMIT_ENABLED=True)
def test_the_eleventh_login_post_from_one_ip_in_five_minutes_is_429(client, alice, monkeypatch):
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_000_000.0))
    for _ in range(10):
        assert client.post("/accounts/login", {"login": "alice", "password": "wrong"}).status_code == 200
    r = client.post("/accounts/login", {"login": "alice", "password": PASSWORD})
    assert r.status_code == 429 and 1 <= int(r["Retry-After"]) <= 300
    other_ip = client.post(
        "/accounts/login", {"login": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2"
    )
    assert other_ip.status_code == 302


@override_settings(PAPERBOARD_RATELIMIT_ENABLED=True)
def test_signup_and_password_reset_are_rate_limited_per_ip(client, db, monkeypatch):
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_000_000.0))
    for i in range(5):
        assert client.post("/accounts/password-reset", {"email": f"x{i}@example.org"}).status_code == 302
        assert client.post("/accounts/signup", {"username": "x", "email": "bad"}).status_code == 200
    assert client.post("/accounts/password-reset", {"email": "x@example.org"}).status_code == 429
    r = client.post("/accounts/signup", {"username": "x", "email": "bad"})
    assert r.status_code == 429 and r.has_header("Retry-After")


@pytest.mark.parametrize("path", ["/accounts/signup", "/accounts/login", "/accounts/password-reset"])
def test_garbage_posts_get_a_form_with_errors_not_a_500(client, db, path):
    for data in ({}, {"username": "x" * 5000, "email": "@", "password": "", "login": "\x01"}):
        r = client.post(path, data)
        assert r.status_code in (200, 302), (path, data, r.status_code)
    assert client.post(path, {"login": "\x00", "email": "\x00"}).status_code == 400  # text no database stores


def test_admin_shows_profiles_inline_and_tokens_read_only(admin_client, alice):
    ApiToken.issue(alice, "laptop")
    r = admin_client.get(f"/admin/auth/user/{alice.pk}/change/")
    assert r.status_code == 200 and "email_confirmed_at" in r.content.decode()
    r = admin_client.get("/admin/accounts/apitoken/")
    assert r.status_code == 200 and "laptop" in r.content.decode()
    row = ApiToken.objects.get()
    html = admin_client.get(f"/admin/accounts/apitoken/{row.pk}/change/").content.decode()
    assert row.digest in html and 'name="digest"' not in html  # shown, not editable
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403


# ---------------------------------------------------------------- real SMTP


def test_the_confirmation_mail_goes_out_over_real_smtp_and_its_link_confirms(client, db, smtp_server):
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=smtp_server.port,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
    ):
        r = signup(client, username="erin", email="erin@example.org")
    assert r.status_code == 200
    (message,) = smtp_server.wait_for(1)
    assert message["To"] == "erin@example.org" and smtp_server.envelopes[0][1] == ["erin@example.org"]
    assert message.is_multipart() and message.get_body(("html",)) is not None
    path = link_in(message, "/accounts/confirm/")
    assert client.get(path).status_code == 200
    assert profile_of(User.objects.get(username="erin")).confirmed
