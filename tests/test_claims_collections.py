"""Author claims (claim → admin decision → links by the approved author) and collections (bookmarks).

Personas: alice owns (the claim, the collection), bob is someone else, carol is anonymous, admin is staff.
"""

from __future__ import annotations

import pytest
from django.test import Client

from paperboard.community import claims, collections
from paperboard.community.models import AuthorClaim, Collection, CollectionItem, ModerationAction
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper
from tests.conftest import as_user, make_paper, make_user, put_on_feed

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def paper(db):
    p = make_paper("2501.00001", "Attention is still all you need", authors=("Ada Lovelace", "Alan Turing"))
    put_on_feed(p, "2025-01-10")
    return p


def page(client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, r.status_code
    return r.content.decode()


def approve(admin, claim_row) -> None:
    r = as_user(admin).post("/admin/moderation/act", {"action": "approve_claim", "target": claim_row.pk})
    assert r.status_code == 302


# ---- claims --------------------------------------------------------------------------------------------


def test_claim_then_admin_approval_then_links_by_the_approved_author(paper, alice, bob, admin):
    c = as_user(alice)
    assert "Claim authorship" in page(c, "/papers/2501.00001")
    r = c.post("/papers/2501.00001/claim", {"author_name": "Ada Lovelace"})
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00001#authors"
    row = AuthorClaim.objects.get()
    assert (row.user, row.author_name, row.status) == (alice, "Ada Lovelace", "pending")
    assert "Your claim to be Ada Lovelace is pending." in page(c, "/papers/2501.00001")

    # Not approved yet: no links, for alice or bob.
    links = {"github_repo": "https://github.com/alice/attention", "project_page": "https://alice.example.org/attn"}
    assert c.post("/papers/2501.00001/links", links).status_code == 403
    assert as_user(bob).post("/papers/2501.00001/links", links).status_code == 403

    approve(admin, row)
    row.refresh_from_db()
    assert row.status == "approved" and row.decided_by == admin and row.decided_at is not None
    audit = ModerationAction.objects.get()
    assert (audit.moderator, audit.action, audit.target_kind, audit.target_id) == (admin, "approve_claim", "claim", row.pk)

    html = page(Client(), "/papers/2501.00001")  # anonymous readers see the author on the site
    assert 'Ada Lovelace — <a href="/u/alice">@alice</a>' in html

    before = freshness.data_version()
    r = c.post("/papers/2501.00001/links", links)
    assert r.status_code == 302
    p = Paper.objects.get(pk=paper.pk)
    assert (p.github_repo, p.project_page) == (links["github_repo"], links["project_page"])
    assert freshness.data_version() > before
    html = page(Client(), "/papers/2501.00001")
    assert 'href="https://github.com/alice/attention">Code</a>' in html
    assert 'href="https://alice.example.org/attn">Project page</a>' in html

    # Bob (no claim) and admin (staff, but not an author) still cannot; carol is sent to log in.
    assert as_user(bob).post("/papers/2501.00001/links", {"github_repo": ""}).status_code == 403
    assert as_user(admin).post("/papers/2501.00001/links", {"github_repo": ""}).status_code == 403
    r = Client().post("/papers/2501.00001/links", {"github_repo": ""})
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login?next=")
    assert Paper.objects.get(pk=paper.pk).github_repo == links["github_repo"]

    # Clearing works.
    c.post("/papers/2501.00001/links", {"github_repo": "", "project_page": ""})
    p = Paper.objects.get(pk=paper.pk)
    assert (p.github_repo, p.project_page) == ("", "")


@pytest.mark.parametrize(
    "repo,page_url,message",
    [
        ("http://github.com/a/b", "", "must be an https://github.com/OWNER/REPO address"),
        ("https://gitlab.com/a/b", "", "must be an https://github.com/OWNER/REPO address"),
        ("https://github.com/only-owner", "", "must be an https://github.com/OWNER/REPO address"),
        ("https://github.com.evil.example/a/b", "", "must be an https://github.com/OWNER/REPO address"),
        ("https://user:pw@github.com/a/b", "", "no user names or passwords"),
        ("javascript:alert(1)//github.com/a/b", "", "must be an https://github.com/OWNER/REPO address"),
        ("", "javascript:alert(1)", "must be an http:// or https:// address"),
        ("", "ftp://files.example.org/x", "must be an http:// or https:// address"),
        ("", "data:text/html,<script>alert(1)</script>", "not a valid URL"),
        ("", "https://exa mple.org", "not a valid URL"),
        ("", "https://example.org/" + "x" * 500, "at most 500 characters"),
    ],
)
def test_links_are_validated_and_bad_ones_show_a_message(paper, alice, admin, repo, page_url, message):
    row = claims.claim(alice, paper, "Ada Lovelace")
    approve(admin, row)
    r = as_user(alice).post("/papers/2501.00001/links", {"github_repo": repo, "project_page": page_url}, follow=True)
    assert r.status_code == 200 and message in r.content.decode()
    r = as_user(alice).post("/papers/2501.00001/links", {"github_repo": repo, "project_page": page_url}, **HX)
    assert r.status_code == 200 and message in r.content.decode()
    p = Paper.objects.get(pk=paper.pk)
    assert (p.github_repo, p.project_page) == ("", "")


def test_a_claim_must_name_one_of_the_papers_authors_and_is_filed_once(paper, alice):
    c = as_user(alice)
    r = c.post("/papers/2501.00001/claim", {"author_name": "Somebody Else"}, follow=True)
    assert r.status_code == 200 and "pick one of the paper" in r.content.decode()
    assert not AuthorClaim.objects.exists()
    c.post("/papers/2501.00001/claim", {"author_name": "Alan Turing"})
    r = c.post("/papers/2501.00001/claim", {"author_name": "Ada Lovelace"}, **HX)
    assert r.status_code == 200 and "you already claimed this paper (pending)" in r.content.decode()
    assert AuthorClaim.objects.count() == 1


def test_a_rejected_claim_can_be_filed_again(paper, alice, admin):
    row = claims.claim(alice, paper, "Ada Lovelace")
    r = as_user(admin).post("/admin/moderation/act", {"action": "reject_claim", "target": row.pk, "reason": "no proof"})
    assert r.status_code == 302
    row.refresh_from_db()
    assert row.status == "rejected"
    assert ModerationAction.objects.get().reason == "no proof"
    assert "is rejected" in page(as_user(alice), "/papers/2501.00001")
    assert not claims.is_approved_author(alice, paper)
    again = claims.claim(alice, paper, "Ada Lovelace")
    assert again.status == "pending" and AuthorClaim.objects.count() == 2


def test_one_author_name_is_approved_for_one_account_only(paper, alice, bob, admin):
    first = claims.claim(alice, paper, "Ada Lovelace")
    second = claims.claim(bob, paper, "Ada Lovelace")
    approve(admin, first)
    r = as_user(admin).post("/admin/moderation/act", {"action": "approve_claim", "target": second.pk}, follow=True)
    assert r.status_code == 200 and "another account is already approved as this author" in r.content.decode()
    second.refresh_from_db()
    assert second.status == "pending" and ModerationAction.objects.count() == 1
    dave = make_user("dave")
    with pytest.raises(Refused) as exc:
        claims.claim(dave, paper, "Ada Lovelace")
    assert exc.value.code == "name_taken"
    with pytest.raises(Refused) as exc:
        claims.claim(alice, paper, "Alan Turing")  # alice already is an approved author of this paper
    assert exc.value.code == "already_claimed"
    # The form no longer offers the taken name.
    assert 'value="Ada Lovelace"' not in page(as_user(bob), "/papers/2501.00001")


def test_only_staff_decide_claims(paper, alice, bob):
    row = claims.claim(alice, paper, "Ada Lovelace")
    for who in (alice, bob):
        assert as_user(who).post("/admin/moderation/act", {"action": "approve_claim", "target": row.pk}).status_code == 403
    r = Client().post("/admin/moderation/act", {"action": "approve_claim", "target": row.pk})
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login")
    row.refresh_from_db()
    assert row.status == "pending" and not ModerationAction.objects.exists()


def test_carol_is_sent_to_log_in_to_claim(paper):
    r = Client().post("/papers/2501.00001/claim", {"author_name": "Ada Lovelace"})
    assert r.status_code == 302 and r["Location"] == "/accounts/login?next=/papers/2501.00001%23authors"
    r = Client().post("/papers/2501.00001/claim", {"author_name": "Ada Lovelace"}, **HX)
    assert r.status_code == 401
    assert not AuthorClaim.objects.exists()
    assert "Claim authorship" not in page(Client(), "/papers/2501.00001")


def test_csrf_is_enforced_on_claims_and_links(paper, alice, admin):
    approve(admin, claims.claim(alice, paper, "Ada Lovelace"))
    c = as_user(alice, enforce_csrf_checks=True)
    assert c.post("/papers/2501.00001/claim", {"author_name": "Alan Turing"}).status_code == 403
    assert c.post("/papers/2501.00001/links", {"github_repo": "https://github.com/a/b"}).status_code == 403
    assert Paper.objects.get(pk=paper.pk).github_repo == "" and AuthorClaim.objects.count() == 1


# ---- collections ---------------------------------------------------------------------------------------


def test_alice_saves_a_paper_into_a_new_private_collection(paper, alice, bob):
    c = as_user(alice)
    r = c.post("/papers/2501.00001/collect", {"new_name": "Reading list"})
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00001#collections"
    col = Collection.objects.get()
    assert (col.user, col.name, col.slug, col.public) == (alice, "Reading list", "reading-list", False)
    assert list(col.items.values_list("paper_id", flat=True)) == [paper.pk]
    html = page(c, "/u/alice/collections/reading-list")
    assert "Attention is still all you need" in html and "private" in html
    assert 'In <a href="/u/alice/collections/reading-list">Reading list</a> (private)' in page(c, "/papers/2501.00001")
    # Private: a 404 for everyone else, the same as a collection that does not exist.
    assert as_user(bob).get("/u/alice/collections/reading-list").status_code == 404
    assert Client().get("/u/alice/collections/reading-list").status_code == 404
    assert Client().get("/u/alice/collections/nothing-here").status_code == 404


def test_a_public_collection_is_seen_by_all_and_listed_on_the_profile(paper, alice, bob):
    col = collections.create(alice, "Best of 2025", public=True)
    collections.add(alice, col, paper)
    hidden = collections.create(alice, "Secret stash")
    for client in (as_user(bob), Client()):
        html = page(client, "/u/alice/collections/best-of-2025")
        assert "Attention is still all you need" in html and "Edit this collection" not in html
        listing = page(client, "/u/alice/collections")
        assert "Best of 2025" in listing and "Secret stash" not in listing
    assert "Secret stash" in page(as_user(alice), "/u/alice/collections")
    assert hidden.public is False


def test_the_profile_page_lists_public_collections(paper, alice, bob):
    col = collections.create(alice, "Best of 2025", public=True)
    collections.add(alice, col, paper)
    collections.create(alice, "Secret stash")
    r = Client().get("/u/alice")
    if r.status_code == 404:
        pytest.skip("the profile page (accounts app) is not there yet")
    html = r.content.decode()
    assert '<a href="/u/alice/collections/best-of-2025">Best of 2025</a>' in html and "1 paper" in html
    assert "Secret stash" not in html and "Secret stash" not in page(as_user(bob), "/u/alice")
    assert "Secret stash" in page(as_user(alice), "/u/alice")  # the owner sees their private ones, marked


def test_saving_into_an_existing_collection_and_twice(paper, alice):
    col = collections.create(alice, "Reading list")
    c = as_user(alice)
    r = c.post("/papers/2501.00001/collect", {"collection": col.pk}, **HX)
    assert r.status_code == 200 and "Saved to “Reading list”." in r.content.decode()
    r = c.post("/papers/2501.00001/collect", {"collection": col.pk}, follow=True)
    assert "Already in “Reading list”." in r.content.decode()
    assert CollectionItem.objects.count() == 1


def test_bad_collection_input_shows_a_message(paper, alice):
    c = as_user(alice)
    r = c.post("/papers/2501.00001/collect", {"collection": "", "new_name": "  "}, follow=True)
    assert r.status_code == 200 and "pick a collection or name a new one" in r.content.decode()
    r = c.post("/papers/2501.00001/collect", {"new_name": "x" * 101}, follow=True)
    assert r.status_code == 200 and "at most 100 characters" in r.content.decode()
    assert not Collection.objects.exists()


def test_slugs_are_unique_per_user_and_kept_on_rename(alice, bob):
    a1 = collections.create(alice, "Reading list")
    a2 = collections.create(alice, "Reading   List")
    b1 = collections.create(bob, "Reading list")
    odd = collections.create(alice, "论文")
    assert (a1.slug, a2.slug, b1.slug, odd.slug) == ("reading-list", "reading-list-2", "reading-list", "collection")
    r = as_user(alice).post("/u/alice/collections/reading-list/edit",
                            {"name": "Renamed", "description": "d", "public": "on"})
    assert r.status_code == 302 and r["Location"] == "/u/alice/collections/reading-list"
    a1.refresh_from_db()
    assert (a1.name, a1.slug, a1.description, a1.public) == ("Renamed", "reading-list", "d", True)


def test_only_the_owner_changes_a_collection(paper, alice, bob, admin):
    public = collections.create(alice, "Public one", public=True)
    private = collections.create(alice, "Private one")
    collections.add(alice, public, paper)
    form = {"name": "Taken over", "description": "", "public": "on"}
    for who in (bob, admin):
        c = as_user(who)
        assert c.post("/u/alice/collections/public-one/edit", form).status_code == 403
        assert c.post("/u/alice/collections/public-one/delete").status_code == 403
        assert c.post("/u/alice/collections/private-one/edit", form).status_code == 404
        assert c.post("/u/alice/collections/private-one/delete").status_code == 404
        assert c.post("/papers/2501.00001/collect", {"collection": private.pk}).status_code == 403
        assert c.post("/papers/2501.00001/uncollect", {"collection": public.pk}).status_code == 403
    for url in ("/u/alice/collections/public-one/edit", "/u/alice/collections/public-one/delete"):
        r = Client().post(url, form)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login?next=/u/alice/collections/public-one")
    for url in ("/papers/2501.00001/collect", "/papers/2501.00001/uncollect"):
        r = Client().post(url, {"collection": public.pk, "new_name": "x"})
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login?next=")
        assert Client().post(url, {"collection": public.pk}, **HX).status_code == 401
    public.refresh_from_db()
    assert public.name == "Public one" and Collection.objects.count() == 2
    assert CollectionItem.objects.count() == 1 and not private.items.exists()


def test_the_owner_removes_a_paper_and_deletes_the_collection(paper, alice):
    col = collections.create(alice, "Reading list")
    collections.add(alice, col, paper)
    c = as_user(alice)
    html = page(c, "/u/alice/collections/reading-list")
    assert "✕ remove" in html and "Edit this collection" in html
    r = c.post("/papers/2501.00001/uncollect", {"collection": col.pk, "next": "/u/alice/collections/reading-list"})
    assert r.status_code == 302 and r["Location"] == "/u/alice/collections/reading-list"
    assert not CollectionItem.objects.exists()
    r = c.post("/papers/2501.00001/uncollect", {"collection": col.pk, "next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00001#collections"  # no open redirect
    r = c.post("/u/alice/collections/reading-list/delete")
    assert r.status_code == 302 and r["Location"] == "/u/alice/collections"
    assert not Collection.objects.exists() and Paper.objects.filter(pk=paper.pk).exists()


def test_csrf_is_enforced_on_collection_routes(paper, alice):
    col = collections.create(alice, "Reading list")
    collections.add(alice, col, paper)
    c = as_user(alice, enforce_csrf_checks=True)
    for url, data in (
        ("/papers/2501.00001/collect", {"new_name": "Forged"}),
        ("/papers/2501.00001/uncollect", {"collection": col.pk}),
        ("/u/alice/collections/reading-list/edit", {"name": "Forged"}),
        ("/u/alice/collections/reading-list/delete", {}),
    ):
        assert c.post(url, data).status_code == 403, url
    col.refresh_from_db()
    assert col.name == "Reading list" and Collection.objects.count() == 1 and col.items.count() == 1


def test_hidden_papers_are_not_listed_in_collections(paper, alice):
    col = collections.create(alice, "Reading list", public=True)
    collections.add(alice, col, paper)
    other = make_paper("2501.00002", "Still visible")
    collections.add(alice, col, other)
    Paper.objects.filter(pk=paper.pk).update(hidden=True)
    html = page(Client(), "/u/alice/collections/reading-list")
    assert "Still visible" in html and "Attention is still all you need" not in html
    assert [c.count for c in collections.of_user(alice)] == [1]


def test_carol_sees_no_collection_controls_on_the_paper_page(paper):
    html = page(Client(), "/papers/2501.00001")
    assert 'action="/papers/2501.00001/collect"' not in html
