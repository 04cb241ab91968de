"""Flags, the moderation queue, moderator actions and their audit log, bans, and the Django admin.

Personas: alice reports and writes, bob is someone else, carol is anonymous, admin is staff.
"""

from __future__ import annotations

import pytest
from django.test import Client

from paperboard.accounts.models import profile_of
from paperboard.community import claims, collections, comments, moderation
from paperboard.community.models import AuthorClaim, Comment, Flag, ModerationAction
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper
from tests.conftest import as_user, ban, make_paper, make_user, put_on_feed

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def paper(db, bob):
    p = make_paper("2501.00001", "Attention is still all you need")
    put_on_feed(p, "2025-01-10", user=bob)
    return p


def act(client, action: str, target, reason: str = "", **extra):
    return client.post("/admin/moderation/act", {"action": action, "target": target, "reason": reason}, **extra)


def feed_titles(client=None) -> str:
    return (client or Client()).get("/papers/date/2025-01-10").content.decode()


# ---- flags ---------------------------------------------------------------------------------------------


def test_a_logged_in_user_reports_a_paper_and_a_comment(paper, alice, bob):
    c = comments.post(bob, paper, "buy cheap pills")
    r = as_user(alice).post("/flags", {"kind": "paper", "target": paper.pk, "reason": "not a paper",
                                       "next": "/papers/2501.00001"})
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00001"
    r = as_user(alice).post("/flags", {"kind": "comment", "target": c.pk, "reason": "spam"}, **HX)
    assert r.status_code == 200 and "the moderators will take a look" in r.content.decode()
    assert sorted(Flag.objects.values_list("target_kind", "target_id", "reason", "status")) == [
        ("comment", c.pk, "spam", "open"), ("paper", paper.pk, "not a paper", "open")]
    assert Flag.objects.filter(reporter=alice).count() == 2


def test_report_forms_are_on_the_paper_page_for_logged_in_users_only(paper, alice, bob):
    c = comments.post(bob, paper, "hello")
    html = as_user(alice).get("/papers/2501.00001").content.decode()
    assert 'name="kind" value="paper"' in html and f'name="kind" value="comment"><input type="hidden" name="target" value="{c.pk}"' in html
    assert 'action="/flags"' not in Client().get("/papers/2501.00001").content.decode()


def test_flag_input_is_checked(paper, alice):
    c = as_user(alice)
    r = c.post("/flags", {"kind": "paper", "target": paper.pk, "reason": "  "}, follow=True)
    assert r.status_code == 200 and "say what is wrong" in r.content.decode()
    r = c.post("/flags", {"kind": "user", "target": paper.pk, "reason": "x"}, follow=True)
    assert r.status_code == 200 and "you can report a paper, a submission or a comment" in r.content.decode()
    assert c.post("/flags", {"kind": "paper", "target": 999999, "reason": "x"}).status_code == 404
    assert c.post("/flags", {"kind": "paper", "target": "abc", "reason": "x"}).status_code == 404
    c.post("/flags", {"kind": "paper", "target": paper.pk, "reason": "first"})
    r = c.post("/flags", {"kind": "paper", "target": paper.pk, "reason": "again"}, follow=True)
    assert "you already reported this" in r.content.decode()
    assert Flag.objects.count() == 1


def test_carol_is_sent_to_log_in_to_report(paper):
    r = Client().post("/flags", {"kind": "paper", "target": paper.pk, "reason": "x", "next": "/papers/2501.00001"})
    assert r.status_code == 302 and r["Location"] == "/accounts/login?next=/papers/2501.00001"
    assert Client().post("/flags", {"kind": "paper", "target": paper.pk, "reason": "x"}, **HX).status_code == 401
    assert not Flag.objects.exists()


def test_flags_are_rate_limited(paper, alice):
    c = as_user(alice)
    for i in range(20):
        assert c.post("/flags", {"kind": "paper", "target": paper.pk, "reason": f"r{i}"}).status_code == 302
    assert c.post("/flags", {"kind": "paper", "target": paper.pk, "reason": "more"}).status_code == 429


def test_csrf_is_enforced_on_flags_and_moderator_actions(paper, alice, admin):
    c = Client(enforce_csrf_checks=True)
    c.force_login(alice)
    assert c.post("/flags", {"kind": "paper", "target": paper.pk, "reason": "x"}).status_code == 403
    c.force_login(admin)
    assert act(c, "hide_paper", paper.pk).status_code == 403
    assert not Flag.objects.exists() and not ModerationAction.objects.exists()
    assert Paper.objects.get(pk=paper.pk).hidden is False


# ---- who may moderate ----------------------------------------------------------------------------------


def test_the_queue_and_the_log_are_for_staff_only(paper, alice, admin):
    for url in ("/admin/moderation", "/admin/moderation/log"):
        assert as_user(alice).get(url).status_code == 403
        r = Client().get(url)
        assert r.status_code == 302 and r["Location"] == f"/accounts/login?next={url}"
        assert as_user(admin).get(url).status_code == 200


def test_non_staff_cannot_take_any_moderator_action(paper, alice, bob):
    c = comments.post(bob, paper, "x")
    for action, target in (("hide_paper", paper.pk), ("hide_comment", c.pk), ("ban_user", bob.pk),
                           ("hide_submission", paper.submission.pk)):
        assert act(as_user(alice), action, target, "because").status_code == 403
        r = act(Client(), action, target, "because")
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login")
    assert not ModerationAction.objects.exists()
    assert not Paper.objects.get(pk=paper.pk).hidden and not Comment.objects.get(pk=c.pk).hidden
    assert not profile_of(bob).banned
    with pytest.raises(Refused) as exc:
        moderation.act(alice, "hide_paper", paper.pk)
    assert exc.value.status == 403


# ---- each action writes one audit row ------------------------------------------------------------------


def last_action() -> ModerationAction:
    return ModerationAction.objects.order_by("-pk").first()


def test_hide_and_restore_a_paper(paper, alice, admin):
    moderation.flag(alice, "paper", paper.pk, "spam")
    before = freshness.data_version()
    r = act(as_user(admin), "hide_paper", paper.pk, "spam paper")
    assert r.status_code == 302 and r["Location"] == "/admin/moderation"
    assert Paper.objects.get(pk=paper.pk).hidden and freshness.data_version() > before
    row = last_action()
    assert (row.moderator, row.action, row.target_kind, row.target_id, row.reason) == (
        admin, "hide_paper", "paper", paper.pk, "spam paper")
    assert Flag.objects.get().status == "resolved" and Flag.objects.get().resolved_by == admin
    assert Client().get("/papers/2501.00001").status_code == 404
    assert "Attention is still all you need" not in feed_titles()
    act(as_user(admin), "restore_paper", paper.pk, "it was fine")
    assert not Paper.objects.get(pk=paper.pk).hidden
    assert last_action().action == "restore_paper" and ModerationAction.objects.count() == 2
    assert "Attention is still all you need" in feed_titles()


def test_hide_and_restore_a_submission(paper, alice, admin):
    sub = paper.submission
    moderation.flag(alice, "submission", sub.pk, "off-topic")
    act(as_user(admin), "hide_submission", sub.pk)
    assert Paper.objects.get(pk=paper.pk).hidden
    assert (last_action().action, last_action().target_kind, last_action().target_id) == (
        "hide_submission", "submission", sub.pk)
    assert Flag.objects.get().status == "resolved"
    assert "Attention is still all you need" not in feed_titles()
    act(as_user(admin), "restore_submission", sub.pk)
    assert not Paper.objects.get(pk=paper.pk).hidden and last_action().action == "restore_submission"
    assert ModerationAction.objects.count() == 2


def test_hide_and_restore_a_comment_keeps_the_count_exact(paper, alice, bob, admin):
    c = comments.post(bob, paper, "rude")
    comments.post(alice, paper, "calm")
    moderation.flag(alice, "comment", c.pk, "rude")
    act(as_user(admin), "hide_comment", c.pk, "rude")
    assert Comment.objects.get(pk=c.pk).hidden and Paper.objects.get(pk=paper.pk).num_comments == 1
    assert (last_action().action, last_action().target_id) == ("hide_comment", c.pk)
    assert Flag.objects.get().status == "resolved"
    assert "rude" not in Client().get("/papers/2501.00001").content.decode().split('id="comments"')[1]
    r = act(as_user(admin), "hide_comment", c.pk, follow=True)  # again: nothing to do, no audit row
    assert "already is hidden" in r.content.decode() and ModerationAction.objects.count() == 1
    act(as_user(admin), "restore_comment", c.pk)
    assert not Comment.objects.get(pk=c.pk).hidden and Paper.objects.get(pk=paper.pk).num_comments == 2
    assert last_action().action == "restore_comment" and ModerationAction.objects.count() == 2


def test_ban_and_unban_a_user(paper, bob, admin):
    r = act(as_user(admin), "ban_user", bob.pk, "", follow=True)
    assert "give a reason for the ban" in r.content.decode() and not profile_of(bob).banned
    act(as_user(admin), "ban_user", bob.pk, "spamming")
    p = profile_of(bob)
    p.refresh_from_db()
    assert p.banned and p.ban_reason == "spamming"
    assert (last_action().action, last_action().target_kind, last_action().target_id, last_action().reason) == (
        "ban_user", "user", bob.pk, "spamming")
    assert as_user(bob).post("/papers/2501.00001/comments", {"body": "let me in"}).status_code == 403
    act(as_user(admin), "unban_user", bob.pk, "appeal accepted")
    p.refresh_from_db()
    assert not p.banned and p.ban_reason == "" and last_action().action == "unban_user"
    assert ModerationAction.objects.count() == 2
    assert as_user(bob).post("/papers/2501.00001/comments", {"body": "thanks"}).status_code == 302


def test_staff_and_oneself_cannot_be_banned_from_the_queue(admin):
    other = make_user("mod2", staff=True)
    for target in (admin, other):
        assert act(as_user(admin), "ban_user", target.pk, "power trip").status_code == 403
    assert not ModerationAction.objects.exists()


def test_resolve_a_flag(paper, alice, admin):
    f = moderation.flag(alice, "paper", paper.pk, "dunno")
    act(as_user(admin), "resolve_flag", f.pk)
    f.refresh_from_db()
    assert f.status == "resolved" and f.resolved_by == admin and f.resolved_at is not None
    assert (last_action().action, last_action().target_kind, last_action().target_id) == ("resolve_flag", "flag", f.pk)
    assert not Paper.objects.get(pk=paper.pk).hidden
    # Resolved: alice may report the same thing again.
    assert moderation.flag(alice, "paper", paper.pk, "really").status == "open"


def test_approve_and_reject_claims_write_audit_rows(paper, alice, bob, admin):
    a = claims.claim(alice, paper, "Ada Lovelace")
    b = claims.claim(bob, paper, "Alan Turing")
    act(as_user(admin), "approve_claim", a.pk)
    act(as_user(admin), "reject_claim", b.pk, "no evidence")
    assert list(AuthorClaim.objects.order_by("pk").values_list("status", flat=True)) == ["approved", "rejected"]
    assert list(ModerationAction.objects.order_by("pk").values_list("action", "target_id")) == [
        ("approve_claim", a.pk), ("reject_claim", b.pk)]


def test_unknown_actions_and_targets_show_a_message(admin):
    r = act(as_user(admin), "nuke_everything", 1, follow=True)
    assert r.status_code == 200 and "unknown moderation action" in r.content.decode()
    r = act(as_user(admin), "hide_paper", 424242, follow=True)
    assert r.status_code == 200 and "paper not found" in r.content.decode()
    r = act(as_user(admin), "hide_comment", "x", follow=True)
    assert r.status_code == 200 and "comment not found" in r.content.decode()
    assert not ModerationAction.objects.exists()


# ---- the queue shows what was reported -----------------------------------------------------------------


def test_the_queue_shows_open_reports_with_their_content_sanitised(paper, alice, bob, admin):
    c = comments.post(bob, paper, "**loud** <img src=x onerror=alert(1)>")
    moderation.flag(alice, "comment", c.pk, "abusive <script>alert(2)</script>")
    moderation.flag(alice, "paper", paper.pk, "not research")
    moderation.flag(bob, "submission", paper.submission.pk, "duplicate")
    claims.claim(alice, paper, "Ada Lovelace")
    html = as_user(admin).get("/admin/moderation").content.decode()
    assert "<strong>loud</strong>" in html and "onerror" not in html
    assert "abusive &lt;script&gt;alert(2)&lt;/script&gt;" in html and "<script>alert(2)" not in html
    assert "not research" in html and "duplicate" in html and "Open reports (3)" in html
    assert 'value="hide_comment"' in html and 'value="ban_user"' in html and 'value="hide_paper"' in html
    assert "Author claims (1)" in html and 'value="approve_claim"' in html
    assert html.count('name="csrfmiddlewaretoken"') >= 8


def test_hidden_content_and_banned_accounts_can_be_restored_from_the_queue(paper, bob, admin):
    c = comments.post(bob, paper, "hidden words")
    moderation.act(admin, "hide_comment", c.pk)
    moderation.act(admin, "hide_paper", paper.pk)
    moderation.act(admin, "ban_user", bob.pk, "spam")
    html = as_user(admin).get("/admin/moderation").content.decode()
    assert "hidden words" in html and 'value="restore_comment"' in html and 'value="restore_paper"' in html
    assert 'value="unban_user"' in html and "spam" in html


def test_the_audit_log_lists_every_action_newest_first(paper, bob, admin):
    moderation.act(admin, "hide_paper", paper.pk, "first")
    moderation.act(admin, "restore_paper", paper.pk, "second")
    moderation.act(admin, "ban_user", bob.pk, "third")
    html = as_user(admin).get("/admin/moderation/log").content.decode()
    assert html.index("third") < html.index("second") < html.index("first")
    assert "ban_user" in html and f"user #{bob.pk}" in html
    filtered = as_user(admin).get("/admin/moderation/log?action=ban_user").content.decode()
    assert "third" in filtered and "first" not in filtered
    assert as_user(admin).get("/admin/moderation/log?p=abc&action=bogus").status_code == 200


# ---- bans reach every community write ------------------------------------------------------------------


def test_a_banned_user_cannot_comment_flag_claim_or_collect(paper, alice):
    ban(alice, "spam")
    c = as_user(alice)
    assert c.post("/papers/2501.00001/comments", {"body": "hi"}).status_code == 403
    assert c.post("/flags", {"kind": "paper", "target": paper.pk, "reason": "x"}).status_code == 403
    assert c.post("/papers/2501.00001/claim", {"author_name": "Ada Lovelace"}).status_code == 403
    assert c.post("/papers/2501.00001/collect", {"new_name": "Mine"}).status_code == 403
    assert not (Comment.objects.exists() or Flag.objects.exists() or AuthorClaim.objects.exists())
    with pytest.raises(Refused):
        collections.create(alice, "Mine")


# ---- Django admin --------------------------------------------------------------------------------------


def test_community_models_are_in_the_django_admin(paper, alice, admin):
    cm = comments.post(alice, paper, "x")
    claim = claims.claim(alice, paper, "Ada Lovelace")
    col = collections.create(alice, "Reading list")
    collections.add(alice, col, paper)
    f = moderation.flag(alice, "comment", cm.pk, "why")
    row = moderation.act(admin, "resolve_flag", f.pk)
    c = as_user(admin)
    for model, pk in (("comment", cm.pk), ("authorclaim", claim.pk), ("collection", col.pk), ("flag", f.pk),
                      ("moderationaction", row.pk)):
        assert c.get(f"/admin/community/{model}/").status_code == 200, model
        assert c.get(f"/admin/community/{model}/{pk}/change/").status_code == 200, model
    assert c.get("/admin/community/moderationaction/add/").status_code == 403  # the log is read-only


def test_django_admin_actions_go_through_moderation_and_are_logged(paper, alice, admin):
    cm = comments.post(alice, paper, "x")
    r = as_user(admin).post("/admin/community/comment/", {"action": "hide", "_selected_action": [cm.pk]})
    assert r.status_code == 302
    assert Comment.objects.get(pk=cm.pk).hidden and Paper.objects.get(pk=paper.pk).num_comments == 0
    row = last_action()
    assert (row.action, row.target_id, row.reason) == ("hide_comment", cm.pk, "via Django admin")


def test_the_django_admin_offers_restore_approve_and_reject_and_logs_each(paper, alice, bob, admin):
    cm = comments.post(alice, paper, "x")
    moderation.act(admin, "hide_comment", cm.pk)
    keep, drop = claims.claim(alice, paper, "Ada Lovelace"), claims.claim(bob, paper, "Alan Turing")
    c = as_user(admin)
    page = c.get("/admin/community/comment/").content.decode()
    assert "Hide selected comments (logged)" in page and "Restore selected comments (logged)" in page
    page = c.get("/admin/community/authorclaim/").content.decode()
    assert "Approve selected claims (logged)" in page and "Reject selected claims (logged)" in page
    for url, action, pk, logged in (("/admin/community/comment/", "restore", cm.pk, "restore_comment"),
                                    ("/admin/community/authorclaim/", "approve", keep.pk, "approve_claim"),
                                    ("/admin/community/authorclaim/", "reject", drop.pk, "reject_claim")):
        assert c.post(url, {"action": action, "_selected_action": [pk]}).status_code == 302
        row = last_action()
        assert (row.action, row.target_id, row.reason) == (logged, pk, "via Django admin")
    assert not Comment.objects.get(pk=cm.pk).hidden and Paper.objects.get(pk=paper.pk).num_comments == 1
    statuses = dict(AuthorClaim.objects.values_list("pk", "status"))
    assert (statuses[keep.pk], statuses[drop.pk]) == ("approved", "rejected")


def test_deleting_comments_in_the_django_admin_keeps_the_count_exact(paper, alice, admin):
    keep = comments.post(alice, paper, "keep")
    gone = comments.post(alice, paper, "gone")
    reply = comments.post(alice, paper, "reply", parent=gone)
    r = as_user(admin).post(f"/admin/community/comment/{gone.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert Paper.objects.get(pk=paper.pk).num_comments == 2
    reply.refresh_from_db()
    assert reply.parent_id is None  # the reply survives, now at the top level
    assert [c.pk for c in comments.thread(paper)] == [keep.pk, reply.pk]


def test_huge_or_odd_ids_in_forms_are_refused_never_a_500(paper, alice, admin):
    huge = "99999999999999999999"
    c = as_user(alice)
    assert c.post("/papers/2501.00001/comments", {"body": "x", "parent": huge}, follow=True).status_code == 200
    assert c.post("/papers/2501.00001/collect", {"collection": huge}, follow=True).status_code == 200
    assert c.post("/papers/2501.00001/uncollect", {"collection": huge}).status_code == 404
    assert c.post("/flags", {"kind": "comment", "target": huge, "reason": "x"}).status_code == 404
    assert c.post("/flags", {"kind": "paper", "target": "-1", "reason": "x"}).status_code == 404
    for action in ("hide_paper", "hide_comment", "ban_user", "resolve_flag", "approve_claim", "hide_submission"):
        r = act(as_user(admin), action, huge, "x", follow=True)
        assert r.status_code == 200 and "not found" in r.content.decode()
    assert c.post(f"/comments/{huge}/edit", {"body": "x"}).status_code == 404
    assert not Comment.objects.exists() and not ModerationAction.objects.exists()
