"""A banned account writes nothing: every POST a logged-in user can reach answers 403 with the ban's message
(JSON `{"error", "code": "banned"}` when asked for JSON) and no row changes anywhere. What stays open on
purpose — log out, change the password, revoke API tokens, delete the account, stop digests — is tested too.

Persona: mallory, banned after she had a comment, a collection, an approved author claim, an API token and a
digest subscription; bob, whose comment she could report.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from paperboard.accounts.models import ApiToken
from paperboard.community import collections, comments
from paperboard.community.models import AuthorClaim
from paperboard.digests import links, subscriptions
from paperboard.digests.models import Subscription
from paperboard.search.models import Interest
from tests.conftest import PASSWORD, as_user, ban, make_paper, make_user, put_on_feed

User = get_user_model()
NEW_PASSWORD = "a brand new passphrase"
NOT_DATA = {"papers.RateCounter"}  # rate-limit windows count requests, they are no one's data
VOLATILE_FIELDS = {"last_login", "last_used_at"}


def db_state() -> dict:
    """Every row of every table the project owns, plus the users: what a refused write must leave alone."""
    state = {}
    models = [m for m in apps.get_models() if m.__module__.startswith("paperboard.")] + [User]
    for model in models:
        if model._meta.label in NOT_DATA:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS]
        state[model._meta.label] = list(model.objects.order_by("pk").values_list(*fields))
    return state


class World:
    """What exists before mallory is banned; `posts` are the writes she then tries."""

    def __init__(self, bob):
        self.paper = make_paper("2501.00001", authors=("Ada Lovelace", "Alan Turing"))
        put_on_feed(self.paper, timezone.localdate().isoformat())
        # In the database, not on the feed: submitting it needs no arXiv.
        self.unlisted = make_paper("2501.00002", published=timezone.localdate().isoformat())
        self.bob = bob
        self.mallory = make_user("mallory", joined=None)
        self.bobs_comment = comments.post(self.bob, self.paper, "bob's comment")
        self.her_comment = comments.post(self.mallory, self.paper, "mallory's comment")
        self.collection = collections.create(self.mallory, "Reading list")
        collections.add(self.mallory, self.collection, self.paper)
        AuthorClaim.objects.create(paper=self.paper, user=self.mallory, author_name="Ada Lovelace",
                                   status=AuthorClaim.APPROVED)
        self.token_row, self.token = ApiToken.issue(self.mallory, "script")
        self.subscription = subscriptions.for_account(self.mallory)
        subscriptions.unsubscribe(self.subscription)
        ban(self.mallory, "spam")
        self.client = as_user(self.mallory)


@pytest.fixture
def world(db, bob):
    return World(bob)


def _collection(w):
    return f"/u/mallory/collections/{w.collection.slug}"


PREFERENCES = {"frequency": "daily", "sections": ["top"], "categories": "cs.LG", "topics": "",
               "max_papers": "5", "min_upvotes": "0"}

# (name, path built from the world, form data built from the world)
WRITES = [
    ("profile settings", lambda w: "/accounts/settings", lambda w: {"full_name": "M", "bio": "new bio"}),
    ("create an API token", lambda w: "/accounts/settings/tokens", lambda w: {"name": "another"}),
    ("re-send the confirmation mail", lambda w: "/accounts/confirm", lambda w: {}),
    ("subscribe to digests from settings", lambda w: "/digest/subscribe/account", lambda w: {}),
    ("digest preferences", lambda w: links.preferences_path(w.subscription), lambda w: PREFERENCES),
    ("digest re-subscribe", lambda w: links.preferences_path(w.subscription), lambda w: {"action": "resubscribe"}),
    ("digest confirmation", lambda w: links.confirm_path(w.subscription), lambda w: {}),
    ("for-you interests", lambda w: "/for-you/interests", lambda w: {"category": ["cs.LG", "cs.CL"]}),
    ("submit a paper", lambda w: "/papers/submit", lambda w: {"id": w.unlisted.arxiv_id}),
    ("upvote", lambda w: f"/papers/{w.paper.arxiv_id}/upvote", lambda w: {"action": "add"}),
    ("comment", lambda w: f"/papers/{w.paper.arxiv_id}/comments", lambda w: {"body": "hello"}),
    ("edit a comment", lambda w: f"/comments/{w.her_comment.pk}/edit", lambda w: {"body": "edited"}),
    ("delete a comment", lambda w: f"/comments/{w.her_comment.pk}/delete", lambda w: {}),
    ("claim authorship", lambda w: f"/papers/{w.unlisted.arxiv_id}/claim", lambda w: {"author_name": "Alan Turing"}),
    ("set paper links", lambda w: f"/papers/{w.paper.arxiv_id}/links",
     lambda w: {"github_repo": "https://github.com/m/r", "project_page": ""}),
    ("collect into a new collection", lambda w: f"/papers/{w.paper.arxiv_id}/collect",
     lambda w: {"new_name": "Another"}),
    ("collect into her collection", lambda w: f"/papers/{w.unlisted.arxiv_id}/collect",
     lambda w: {"collection": str(w.collection.pk)}),
    ("uncollect", lambda w: f"/papers/{w.paper.arxiv_id}/uncollect", lambda w: {"collection": str(w.collection.pk)}),
    ("edit a collection", lambda w: _collection(w) + "/edit",
     lambda w: {"name": "Renamed", "description": "d", "public": "on"}),
    ("delete a collection", lambda w: _collection(w) + "/delete", lambda w: {}),
    ("report a comment", lambda w: "/flags", lambda w: {"kind": "comment", "target": str(w.bobs_comment.pk),
                                                          "reason": "rude"}),
    ("moderate", lambda w: "/admin/moderation/act", lambda w: {"action": "hide_paper", "target": str(w.paper.pk)}),
]


@pytest.mark.parametrize("name, path, data", WRITES, ids=[w[0] for w in WRITES])
def test_a_banned_user_is_refused_every_write_and_nothing_is_stored(world, name, path, data):
    mail.outbox.clear()
    before = db_state()
    r = world.client.post(path(world), data(world))
    assert r.status_code == 403, f"{name}: {r.status_code}"
    assert "banned" in r.content.decode().lower() or name == "moderate"
    assert db_state() == before
    assert not mail.outbox


@pytest.mark.parametrize("path", ["/accounts/settings", "/accounts/settings/tokens", "/for-you/interests",
                                  "/digest/subscribe/account"])
def test_a_banned_user_asking_for_json_gets_the_json_refusal(world, path):
    r = world.client.post(path, {"name": "x", "category": "cs.LG"}, HTTP_ACCEPT="application/json")
    assert r.status_code == 403
    assert r.json() == {"error": "this account is banned", "code": "banned"}


def test_the_settings_page_tells_a_banned_user_why_and_what_is_left(world):
    html = world.client.get("/accounts/settings").content.decode()
    assert "This account is banned: spam" in html


def test_a_banned_user_can_still_revoke_tokens_change_the_password_stop_digests_and_log_out(world):
    c = world.client
    assert c.post(f"/accounts/settings/tokens/{world.token_row.pk}/revoke").status_code == 302
    assert ApiToken.objects.get(pk=world.token_row.pk).revoked_at is not None

    r = c.post("/accounts/password-change", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})
    assert r.status_code == 302 and User.objects.get(pk=world.mallory.pk).check_password(NEW_PASSWORD)

    subscriptions.confirm(world.subscription)  # say the digests still went out
    assert Client().post(links.unsubscribe_path(world.subscription)).status_code == 200
    assert not Subscription.objects.get(pk=world.subscription.pk).active

    assert c.post("/accounts/logout").status_code == 302
    assert c.get("/accounts/settings").status_code == 302


def test_a_banned_user_can_still_delete_the_account(world):
    r = world.client.post("/accounts/delete", {"password": PASSWORD})
    assert r.status_code == 302
    assert not User.objects.filter(pk=world.mallory.pk).exists()
    assert not Interest.objects.filter(user_id=world.mallory.pk).exists()
