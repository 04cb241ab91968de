"""Comments: post, reply, edit, delete, and the thread of a paper. Every refusal is a `Refused`.

`Paper.num_comments` counts visible comments (not deleted, not hidden). Each write that changes that
moves the counter by exactly one with an F() update in the same transaction as the comment's own change,
and the comment's change is itself conditional (`UPDATE … WHERE deleted_at IS NULL`), so two racing
deletes move the counter once. Then the data version is bumped (feed cards show the count).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from paperboard.accounts.status import check_can_write
from paperboard.community import markdown
from paperboard.community.models import Comment
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper
from paperboard.papers.shapes import iso
from paperboard.safetext import storable

MAX_DEPTH_SHOWN = 6  # replies deeper than this are drawn without further indentation


def _clean_body(body: str | None) -> str:
    body = storable(body or "").replace("\r\n", "\n").strip()
    if not body:
        raise Refused("empty", "write something first", 400)
    if len(body) > markdown.MAX_LENGTH:
        raise Refused("too_long", f"a comment is at most {markdown.MAX_LENGTH} characters", 400)
    try:
        markdown.check_complexity(body)
    except markdown.TooComplex as exc:
        raise Refused("too_complex", str(exc), 400) from None
    return body


def _bump(paper_id: int, delta: int) -> None:
    qs = Paper.objects.filter(pk=paper_id)
    if delta < 0:
        qs = qs.filter(num_comments__gte=-delta)  # never below zero, even over odd imported counts
    qs.update(num_comments=F("num_comments") + delta)


def _check_author(user, comment: Comment) -> None:
    check_can_write(user)
    if comment.user_id != user.pk:
        raise Refused("not_yours", "only its author can change a comment", 403)
    if comment.deleted:
        raise Refused("deleted", "this comment was deleted", 404)


def post(user, paper: Paper, body: str, parent: Comment | None = None) -> Comment:
    """Post a comment on `paper`, or a reply to `parent` (a comment on the same paper)."""
    check_can_write(user)
    if paper.hidden:
        raise Refused("not_found", "paper not found", 404)
    body = _clean_body(body)
    if parent is not None:
        if parent.paper_id != paper.pk:
            raise Refused("bad_parent", "that comment is on another paper", 400)
        if parent.deleted or parent.hidden:
            raise Refused("bad_parent", "that comment can no longer be replied to", 400)
    with transaction.atomic():
        comment = Comment.objects.create(paper=paper, user=user, parent=parent, body=body)
        _bump(paper.pk, +1)
    return comment


def edit(user, comment: Comment, body: str) -> Comment:
    """Change the text of one's own comment."""
    _check_author(user, comment)
    if comment.hidden:
        raise Refused("hidden", "a moderator hid this comment; it cannot be edited", 403)
    comment.body = _clean_body(body)
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return comment


def delete(user, comment: Comment) -> Comment:
    """Delete one's own comment: its text goes, its place in the thread (and its replies) stay."""
    _check_author(user, comment)
    now = timezone.now()
    with transaction.atomic():
        changed = Comment.objects.filter(pk=comment.pk, deleted_at__isnull=True).update(
            deleted_at=now, body="", body_html=""
        )
        if changed and not comment.hidden:
            _bump(comment.paper_id, -1)
    if not changed:
        raise Refused("deleted", "this comment was deleted", 404)
    comment.deleted_at, comment.body, comment.body_html = now, "", ""
    freshness.changed()  # a QuerySet.update(): no model signal
    return comment


def set_hidden(comment: Comment, hidden: bool) -> bool:
    """Hide or restore a comment (moderation). Returns whether anything changed."""
    with transaction.atomic():
        changed = Comment.objects.filter(pk=comment.pk, hidden=not hidden).update(hidden=hidden)
        if changed:
            # Re-read: a concurrent author delete decides whether the comment was counted.
            deleted = Comment.objects.filter(pk=comment.pk, deleted_at__isnull=False).exists()
            if not deleted:
                _bump(comment.paper_id, -1 if hidden else +1)
    comment.hidden = hidden
    if changed:
        freshness.changed()  # a QuerySet.update(): no model signal
    return bool(changed)


def uncount_before_removal(comments) -> None:
    """Keep `num_comments` exact when comment rows are removed outright (Django admin)."""
    for c in comments:
        if c.visible:
            _bump(c.paper_id, -1)


def thread(paper: Paper) -> list[Comment]:
    """All comments of a visible paper in reading order: depth first, oldest first at each level.

    Each comment gets `.depth` (0 for top level), `.level` (depth capped at MAX_DEPTH_SHOWN, for
    indentation) and `.children` (its shown replies). Deleted and hidden comments stay as placeholders
    while a reply under them is shown, and are left out otherwise. No recursion: any depth is fine.
    """
    if paper is None or paper.hidden:
        raise Refused("not_found", "paper not found", 404)
    rows = list(Comment.objects.filter(paper=paper).select_related("user").order_by("pk"))
    by_id = {c.pk: c for c in rows}
    # A reply is always newer (higher pk) than its parent: one backwards pass finds live subtrees.
    shown: set[int] = set()
    for c in reversed(rows):
        c.children = []
        if c.visible or c.pk in shown:
            shown.add(c.pk)
            if c.parent_id in by_id:
                shown.add(c.parent_id)
    roots: list[Comment] = []
    for c in rows:
        if c.pk not in shown:
            continue
        parent = by_id.get(c.parent_id)
        (parent.children if parent is not None else roots).append(c)
    out: list[Comment] = []
    stack = [(c, 0) for c in reversed(roots)]
    while stack:
        c, depth = stack.pop()
        c.depth, c.level = depth, min(depth, MAX_DEPTH_SHOWN)
        out.append(c)
        stack.extend((r, depth + 1) for r in reversed(c.children))
    return out


def comment_json(c: Comment) -> dict:
    """A comment for the JSON API. Deleted and hidden comments keep their place but lose author and text."""
    shown = c.visible
    author = c.user if shown else None
    return {
        "id": str(c.pk),
        "author": {"user": author.username, "fullname": author.get_full_name() or author.username}
        if author is not None
        else None,
        "body": c.body if shown else "",
        "html": c.body_html if shown else "",
        "createdAt": iso(c.created),
        "editedAt": iso(c.edited_at),
        "parentId": str(c.parent_id) if c.parent_id else None,
        "deleted": not shown,
    }
