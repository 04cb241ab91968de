"""Comments: threads, Markdown and its sanitising, mentions, edit/delete by the author, exact counts.

Personas: alice writes, bob is someone else, carol is anonymous, admin is staff.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from paperboard.community import comments
from paperboard.community.models import Comment
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper
from tests.conftest import as_user, ban, make_paper, put_on_feed

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def paper(db):
    p = make_paper("2501.00001", "Attention is still all you need")
    put_on_feed(p, "2025-01-10", votes=1)
    return p


def count(paper) -> int:
    return Paper.objects.get(pk=paper.pk).num_comments


def page(client, paper) -> str:
    r = client.get(f"/papers/{paper.arxiv_id}")
    assert r.status_code == 200
    return r.content.decode()


def comment_html(html: str, pk: int) -> str:
    m = re.search(rf'<article class="comment[^"]*" id="comment-{pk}">(.*?)</article>', html, re.S)
    assert m, f"comment {pk} not on the page"
    return m.group(1)


# ---- posting and threads ---------------------------------------------------------------------------------


def test_alice_posts_a_comment_and_returns_to_it_on_the_paper_page(paper, alice):
    c = as_user(alice)
    before = freshness.data_version()
    r = c.post(f"/papers/{paper.arxiv_id}/comments", {"body": "Great *paper*"})
    made = Comment.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/papers/{paper.arxiv_id}#comment-{made.pk}"
    assert made.user == alice and made.body == "Great *paper*" and made.body_html == "<p>Great <em>paper</em></p>"
    assert count(paper) == 1 and freshness.data_version() > before
    assert "Great <em>paper</em>" in comment_html(page(c, paper), made.pk)


def test_the_feed_card_shows_the_new_count_at_once_even_from_the_anonymous_cache(client, paper, alice):
    assert "0 comments" in client.get("/papers/date/2025-01-10").content.decode()
    as_user(alice).post(f"/papers/{paper.arxiv_id}/comments", {"body": "first"})
    assert "1 comment<" in client.get("/papers/date/2025-01-10").content.decode()


def test_replies_are_threaded_under_their_parent_in_reading_order(paper, alice, bob):
    top = comments.post(alice, paper, "top")
    other = comments.post(bob, paper, "another top")
    reply = as_user(bob).post(f"/papers/{paper.arxiv_id}/comments", {"body": "a reply", "parent": top.pk})
    assert reply.status_code == 302
    r1 = Comment.objects.get(body="a reply")
    r2 = comments.post(alice, paper, "reply to reply", parent=r1)
    t = comments.thread(paper)
    assert [(c.body, c.depth) for c in t] == [
        ("top", 0), ("a reply", 1), ("reply to reply", 2), ("another top", 0)]
    assert [c.pk for c in t[0].children] == [r1.pk]
    html = page(as_user(bob), paper)
    assert html.index(f'id="comment-{top.pk}"') < html.index(f'id="comment-{r1.pk}"') \
        < html.index(f'id="comment-{r2.pk}"') < html.index(f'id="comment-{other.pk}"')
    assert f'<article class="comment l2" id="comment-{r2.pk}">' in html
    assert r1.parent_id == top.pk and count(paper) == 4


def test_a_very_deep_reply_chain_renders_with_capped_indentation(paper, alice):
    parent = None
    for i in range(60):
        parent = comments.post(alice, paper, f"level {i}", parent=parent)
    t = comments.thread(paper)
    assert [c.depth for c in t] == list(range(60))
    assert max(c.level for c in t) == comments.MAX_DEPTH_SHOWN
    html = page(as_user(alice), paper)
    assert f'<article class="comment l6" id="comment-{parent.pk}">' in html
    assert f'reply to <a href="#comment-{parent.parent_id}">' in html


def test_a_reply_must_be_to_a_comment_on_the_same_paper(paper, alice):
    elsewhere = make_paper("2501.00002")
    foreign = comments.post(alice, elsewhere, "over there")
    with pytest.raises(Refused) as exc:
        comments.post(alice, paper, "here", parent=foreign)
    assert exc.value.status == 400
    r = as_user(alice).post(f"/papers/{paper.arxiv_id}/comments", {"body": "x", "parent": foreign.pk})
    assert r.status_code == 302 and Comment.objects.filter(paper=paper).count() == 0


def test_htmx_posts_answer_the_discussion_fragment(paper, alice):
    r = as_user(alice).post(f"/papers/{paper.arxiv_id}/comments", {"body": "via htmx"}, **HX)
    html = r.content.decode()
    assert r.status_code == 200 and '<section id="discuss"' in html and "<html" not in html
    assert "via htmx" in html and 'name="csrfmiddlewaretoken"' in html


def test_bad_input_shows_a_message_and_never_a_500(paper, alice):
    c = as_user(alice)
    r = c.post(f"/papers/{paper.arxiv_id}/comments", {"body": "   "}, follow=True)
    assert r.status_code == 200 and "write something first" in r.content.decode()
    r = c.post(f"/papers/{paper.arxiv_id}/comments", {"body": "x" * 10_001}, **HX)
    assert r.status_code == 200 and "at most 10000 characters" in r.content.decode()
    r = c.post(f"/papers/{paper.arxiv_id}/comments", {"body": "x", "parent": "not-a-number"}, follow=True)
    assert r.status_code == 200 and "that comment is gone" in r.content.decode()
    assert not Comment.objects.exists() and count(paper) == 0


def test_commenting_on_an_unknown_or_hidden_paper_is_404(paper, alice):
    c = as_user(alice)
    assert c.post("/papers/2501.99999/comments", {"body": "x"}).status_code == 404
    Paper.objects.filter(pk=paper.pk).update(hidden=True)
    assert c.post(f"/papers/{paper.arxiv_id}/comments", {"body": "x"}).status_code == 404
    with pytest.raises(Refused):
        comments.thread(Paper.objects.get(pk=paper.pk))


# ---- who may write ---------------------------------------------------------------------------------------


def test_carol_is_sent_to_log_in_and_nothing_is_written(client, paper, alice):
    mine = comments.post(alice, paper, "mine")
    for url in (f"/papers/{paper.arxiv_id}/comments", f"/comments/{mine.pk}/edit", f"/comments/{mine.pk}/delete"):
        r = client.post(url, {"body": "anonymous"})
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login?next=/papers/2501.00001")
        r = client.post(url, {"body": "anonymous"}, **HX)
        assert r.status_code == 401 and r["HX-Redirect"].startswith("/accounts/login?next=")
        r = client.post(url, {"body": "anonymous"}, HTTP_ACCEPT="application/json")
        assert r.status_code == 401 and r.json()["code"] == "login_required"
    mine.refresh_from_db()
    assert Comment.objects.count() == 1 and mine.body == "mine" and mine.deleted_at is None


def test_carol_sees_the_thread_and_a_login_prompt_but_no_forms(client, paper, alice):
    comments.post(alice, paper, "visible to all")
    html = page(client, paper)
    assert "visible to all" in html and "to comment." in html
    assert 'name="csrfmiddlewaretoken"' not in html  # the anonymous page is cached: no per-visitor tokens


def test_only_the_author_edits_a_comment(paper, alice, bob, admin):
    mine = comments.post(alice, paper, "first version")
    assert as_user(bob).post(f"/comments/{mine.pk}/edit", {"body": "bob was here"}).status_code == 403
    assert as_user(admin).post(f"/comments/{mine.pk}/edit", {"body": "admin was here"}).status_code == 403
    assert as_user(bob).post(f"/comments/{mine.pk}/edit", {"body": "x"}, **HX).status_code == 403
    r = as_user(alice).post(f"/comments/{mine.pk}/edit", {"body": "second **version**"})
    assert r.status_code == 302 and r["Location"].endswith(f"#comment-{mine.pk}")
    mine.refresh_from_db()
    assert mine.body == "second **version**" and mine.body_html == "<p>second <strong>version</strong></p>"
    assert mine.edited_at is not None
    assert "edited" in comment_html(page(as_user(bob), paper), mine.pk)


def test_only_the_author_deletes_a_comment(paper, alice, bob, admin):
    mine = comments.post(alice, paper, "to be deleted")
    assert as_user(bob).post(f"/comments/{mine.pk}/delete").status_code == 403
    assert as_user(admin).post(f"/comments/{mine.pk}/delete").status_code == 403  # moderators hide instead
    assert count(paper) == 1
    r = as_user(alice).post(f"/comments/{mine.pk}/delete")
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.deleted_at is not None and mine.body == "" and mine.body_html == "" and count(paper) == 0
    assert as_user(alice).post(f"/comments/{mine.pk}/delete").status_code == 404  # twice: counted once
    assert as_user(alice).post(f"/comments/{mine.pk}/edit", {"body": "back"}).status_code == 404
    assert count(paper) == 0


def test_unknown_comment_ids_are_404_not_500(alice):
    c = as_user(alice)
    assert c.post("/comments/424242/edit", {"body": "x"}).status_code == 404
    assert c.post("/comments/99999999999999999999/delete").status_code == 404


def test_csrf_is_enforced_on_every_comment_route(paper, alice):
    mine = comments.post(alice, paper, "mine")
    c = as_user(alice, enforce_csrf_checks=True)
    for url in (f"/papers/{paper.arxiv_id}/comments", f"/comments/{mine.pk}/edit", f"/comments/{mine.pk}/delete"):
        assert c.post(url, {"body": "forged"}).status_code == 403
    mine.refresh_from_db()
    assert Comment.objects.count() == 1 and mine.body == "mine" and mine.deleted_at is None


def test_the_csrf_token_on_the_page_lets_the_form_post(paper, alice):
    c = as_user(alice, enforce_csrf_checks=True)
    html = page(c, paper)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    r = c.post(f"/papers/{paper.arxiv_id}/comments", {"body": "with token", "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and Comment.objects.get().body == "with token"


def test_a_banned_user_cannot_comment_edit_or_delete(paper, alice):
    mine = comments.post(alice, paper, "before the ban")
    ban(alice)
    c = as_user(alice)
    assert c.post(f"/papers/{paper.arxiv_id}/comments", {"body": "after"}).status_code == 403
    assert c.post(f"/comments/{mine.pk}/edit", {"body": "after"}).status_code == 403
    assert c.post(f"/comments/{mine.pk}/delete").status_code == 403
    with pytest.raises(Refused) as exc:
        comments.post(alice, paper, "after")
    assert exc.value.code == "banned"
    assert Comment.objects.count() == 1 and count(paper) == 1
    assert "This account is banned" in page(c, paper)


def test_comments_are_rate_limited(paper, alice):
    c = as_user(alice)
    for i in range(10):
        assert c.post(f"/papers/{paper.arxiv_id}/comments", {"body": f"n{i}"}).status_code == 302
    r = c.post(f"/papers/{paper.arxiv_id}/comments", {"body": "one too many"})
    assert r.status_code == 429 and "Retry-After" in r
    assert Comment.objects.count() == 10


# ---- deleted, hidden and counted -------------------------------------------------------------------------


def test_a_deleted_comment_stays_as_deleted_with_its_replies_readable(paper, alice, bob):
    top = comments.post(alice, paper, "the original point")
    reply = comments.post(bob, paper, "a reply worth keeping", parent=top)
    comments.delete(alice, top)
    t = comments.thread(paper)
    assert [(c.pk, c.depth) for c in t] == [(top.pk, 0), (reply.pk, 1)]
    html = page(as_user(bob), paper)
    node = comment_html(html, top.pk)
    assert "[deleted]" in node and "the original point" not in html and "alice" not in node
    assert "a reply worth keeping" in comment_html(html, reply.pk)
    assert count(paper) == 1
    assert comments.comment_json(t[0])["deleted"] is True and comments.comment_json(t[0])["author"] is None


def test_a_deleted_comment_without_replies_leaves_the_thread(paper, alice):
    gone = comments.post(alice, paper, "oops")
    kept = comments.post(alice, paper, "kept")
    comments.delete(alice, gone)
    assert [c.pk for c in comments.thread(paper)] == [kept.pk]


def test_num_comments_is_exact_through_post_reply_delete_hide_and_restore(paper, alice, bob):
    a = comments.post(alice, paper, "a")
    b = comments.post(bob, paper, "b", parent=a)
    c = comments.post(bob, paper, "c")
    assert count(paper) == 3
    comments.delete(alice, a)
    assert count(paper) == 2
    assert comments.set_hidden(b, True) and count(paper) == 1
    assert not comments.set_hidden(b, True) and count(paper) == 1  # hiding twice changes nothing
    comments.delete(bob, b)  # deleting a hidden comment: it was not counted
    assert count(paper) == 1
    assert comments.set_hidden(b, False) and count(paper) == 1  # restored but deleted: still not counted
    assert comments.set_hidden(c, True) and count(paper) == 0
    assert comments.set_hidden(c, False) and count(paper) == 1
    visible = Comment.objects.filter(paper=paper, hidden=False, deleted_at__isnull=True).count()
    assert count(paper) == visible == 1


def test_a_hidden_comment_shows_as_hidden_and_cannot_be_edited(paper, alice, bob):
    top = comments.post(alice, paper, "rude words")
    comments.post(bob, paper, "a calm reply", parent=top)
    comments.set_hidden(top, True)
    html = page(as_user(bob), paper)
    assert "[hidden by a moderator]" in comment_html(html, top.pk) and "rude words" not in html
    assert as_user(alice).post(f"/comments/{top.pk}/edit", {"body": "nicer"}).status_code == 403
    with pytest.raises(Refused):
        comments.post(bob, paper, "reply to hidden", parent=top)


def test_deleting_an_account_keeps_its_comments_in_the_thread(paper, alice, bob):
    top = comments.post(bob, paper, "from bob")
    comments.post(alice, paper, "answer", parent=top)
    bob.delete()
    top.refresh_from_db()
    assert top.user is None
    html = page(as_user(alice), paper)
    assert "from bob" in html and "[account deleted]" in comment_html(html, top.pk)
    assert count(paper) == 2


def test_comment_json_has_the_api_shape(paper, alice):
    parent = comments.post(alice, paper, "hello @alice")
    reply = comments.post(alice, paper, "reply", parent=parent)
    alice.first_name, alice.last_name = "Alice", "Liddell"
    alice.save()
    reply.refresh_from_db()
    data = comments.comment_json(reply)
    assert set(data) == {"id", "author", "body", "html", "createdAt", "editedAt", "parentId", "deleted"}
    assert data["author"] == {"user": "alice", "fullname": "Alice Liddell"}
    assert data["parentId"] == str(parent.pk) and data["deleted"] is False and data["editedAt"] is None
    assert data["body"] == "reply" and data["html"] == "<p>reply</p>" and data["createdAt"].endswith("Z")
    r = as_user(alice).post(f"/papers/{paper.arxiv_id}/comments", {"body": "json"}, HTTP_ACCEPT="application/json")
    assert r.status_code == 201 and r.json()["body"] == "json"


# ---- Markdown, mentions, XSS -----------------------------------------------------------------------------


def test_markdown_renders_the_allowed_formatting(paper, alice):
    c = comments.post(alice, paper, "# Title\n\n> quoted\n\n- one\n- two\n\n```\ncode <b>\n```\n\n"
                      "[site](https://example.org) and `x<y`")
    h = c.body_html
    assert "<h3>Title</h3>" in h and "<blockquote>" in h and "<li>one</li>" in h
    assert "<pre><code>code &lt;b&gt;\n</code></pre>" in h and "<code>x&lt;y</code>" in h
    assert '<a href="https://example.org" rel="nofollow noopener">site</a>' in h


def test_a_mention_of_an_existing_user_links_to_their_profile(paper, alice, bob):
    c = comments.post(alice, paper, "thanks @bob, and @nobody, mail me at x@bob.org; `@bob` in code.")
    assert '<a href="/u/bob" rel="nofollow noopener">@bob</a>,' in c.body_html
    assert "@nobody" in c.body_html and 'href="/u/nobody"' not in c.body_html
    assert 'href="/u/bob.org"' not in c.body_html and "<code>@bob</code>" in c.body_html
    assert c.body_html.count("/u/bob") == 1
    assert '<a href="/u/bob" rel="nofollow noopener">@bob</a>' in comment_html(page(as_user(bob), paper), c.pk)


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div onclick="alert(1)">div</div>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](https://evil.example/x.png)",
    '[x](https://ok.example" onmouseover="alert(1))',
    "[x](//evil.example/phish)",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>script>alert(1)<</script>/script>",
    '<a href="/u/bob" onclick="alert(1)">forged mention</a>',
    "<!-- <img src=x onerror=alert(1)> -->",
    "<form action=https://evil.example><input name=x></form>",
    "<object data=javascript:alert(1)></object><embed src=javascript:alert(1)>",
    "text <ScRiPt >alert(1)</sCrIpT > more <script>alert(1) unclosed",
    "<my-widget onclick=alert(1)>custom</my-widget>",
    "<details open ontoggle=alert(1)>x</details>",
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    "<base href=javascript:alert(1)//>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<b>bold</b> <strong style=color:red>strong</strong>",
]

ALLOWED_TAGS = {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
                "h3", "h4", "h5", "h6"}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_safe(html: str) -> None:
    """Only allowed tags; only href/rel on links; only http(s)/mailto or /u/<name> targets."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, f"tag <{tag}> survived in {html!r}"
        for name, value in attrs:
            assert (tag, name) in {("a", "href"), ("a", "rel")}, f"attribute {name} survived in {html!r}"
            if name == "href":
                assert re.match(r"^(https?://|mailto:|/u/[\w.+-]+$)", value or ""), f"href {value!r} survived"
            if name == "rel":
                assert value == "nofollow noopener"
    lowered = html.lower()
    for needle in ("<script", "<img", "<svg", "<iframe", "<object", "<embed", "<form", "<style", "<math",
                   "<base", "<meta", "<details", "<div", "style=", "<!--", 'href="javascript', 'href="data',
                   'href="//', "javascript", "data:", "alert", "onerror", "onload", "onclick", "ontoggle",
                   "evil.example"):
        assert needle not in lowered, f"{needle} survived in {html!r}"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markdown_and_html_is_neutralised_when_stored_and_rendered(paper, alice, bob, hostile):
    c = comments.post(alice, paper, hostile)
    assert_safe(c.body_html)
    rendered = re.search(r'<div class="c-body">(.*?)</div>', comment_html(page(as_user(bob), paper), c.pk), re.S)
    assert rendered and rendered.group(1) == c.body_html
    assert_safe(rendered.group(1))
    edited = comments.edit(alice, c, "fine\n\n" + hostile)
    assert_safe(edited.body_html)
    assert_safe(comments.comment_json(edited)["html"])


def test_raw_html_is_removed_but_code_and_inequalities_stay_text(paper, alice):
    c = comments.post(alice, paper, "I <b>love</b> <script>alert(1)</script> <em>raw</em> tokens like <think>,"
                      " n<k and k>2, and `<i>` in code")
    assert c.body_html == ("<p>I love  raw tokens like &lt;think&gt;, n&lt;k and k&gt;2, and <code>&lt;i&gt;</code>"
                           " in code</p>")
    block = comments.post(alice, paper, "```html\n<b onclick=x>shown</b>\n```\n\n<div>\n<p>gone tags</p>\n</div>")
    assert "<pre><code>&lt;b onclick=x&gt;shown&lt;/b&gt;\n</code></pre>" in block.body_html
    assert "<div" not in block.body_html and "gone tags" in block.body_html


def test_markdown_that_would_render_slowly_is_refused_with_a_message(paper, alice):
    import time

    for body in ("[" * 5000, "[" * 2500 + "]" * 2500, "```\n" * 300, "![" * 3000):
        with pytest.raises(Refused) as exc:
            comments.post(alice, paper, body)
        assert exc.value.code == "too_complex" and exc.value.status == 400
    r = as_user(alice).post(f"/papers/{paper.arxiv_id}/comments", {"body": "[" * 5000}, follow=True)
    assert "too many unclosed or deeply nested [ brackets" in r.content.decode()
    # Ordinary heavy use passes: many short links and references, brackets inside code.
    ok = ("See [the paper](https://arxiv.org/abs/2501.00001), cf. [1] and [2]; `x[0][1]`; n<k and k>2.\n\n"
          "```py\nd = [[1, 2], [3]] * 100\n```\n\n") * 50
    started = time.monotonic()
    for body in (ok[:10_000], "[" * 20 + " " * 9_900, "<b " * 3_000, "`" * 10_000, "<script>" * 1_200):
        comments.post(alice, paper, body)
    assert time.monotonic() - started < 10  # each is about 0.1 s; quadratic inputs took seconds each
    assert Comment.objects.count() == 5
