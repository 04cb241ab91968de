"""Flags from users, moderator actions and their audit log.

Every moderator action goes through `act()`, which checks `is_staff`, does the change and writes one
`ModerationAction` row in the same transaction. Hiding content also resolves the open flags on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from paperboard.accounts.models import Profile, profile_of
from paperboard.accounts.status import check_can_write
from paperboard.community import claims, comments
from paperboard.community.models import AuthorClaim, Comment, Flag, ModerationAction
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper, Submission
from paperboard.safetext import storable

REASON_MAX = 1000

# action -> the kind of thing its target id names
ACTIONS: dict[str, str] = {
    "hide_paper": "paper",
    "restore_paper": "paper",
    "hide_submission": "submission",
    "restore_submission": "submission",
    "hide_comment": "comment",
    "restore_comment": "comment",
    "ban_user": "user",
    "unban_user": "user",
    "resolve_flag": "flag",
    "approve_claim": "claim",
    "reject_claim": "claim",
}


def is_moderator(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


# ---- flags ---------------------------------------------------------------------------------------------


def _flag_target(kind: str, target_id) -> object:
    """The live target of a flag, or Refused 404 (hidden things cannot be reported again)."""
    try:
        pk = int(target_id)
    except (TypeError, ValueError):
        raise Refused("not_found", "nothing to report there", 404) from None
    if kind == Flag.PAPER:
        obj = Paper.objects.filter(pk=pk, hidden=False).first()
    elif kind == Flag.SUBMISSION:
        obj = Submission.objects.filter(pk=pk, paper__hidden=False).first()
    elif kind == Flag.COMMENT:
        obj = Comment.objects.filter(
            pk=pk, hidden=False, deleted_at__isnull=True, paper__hidden=False
        ).first()
    else:
        raise Refused("bad_kind", "you can report a paper, a submission or a comment", 400)
    if obj is None:
        raise Refused("not_found", "nothing to report there", 404)
    return obj


def flag(user, kind: str, target_id, reason: str) -> Flag:
    """Report a paper, submission or comment to the moderators."""
    check_can_write(user)
    target = _flag_target(kind, target_id)
    reason = " ".join(storable(reason or "").split())
    if not reason:
        raise Refused("empty", "say what is wrong", 400)
    if len(reason) > REASON_MAX:
        raise Refused("too_long", f"a reason is at most {REASON_MAX} characters", 400)
    again = Refused("already_flagged", "you already reported this; a moderator will look at it", 409)
    if Flag.objects.filter(reporter=user, target_kind=kind, target_id=target.pk, status=Flag.OPEN).exists():
        raise again
    try:
        with transaction.atomic():
            return Flag.objects.create(reporter=user, target_kind=kind, target_id=target.pk, reason=reason)
    except IntegrityError:
        raise again from None


def _resolve_flags(moderator, kind: str, target_id: int) -> int:
    return Flag.objects.filter(target_kind=kind, target_id=target_id, status=Flag.OPEN).update(
        status=Flag.RESOLVED, resolved_by=moderator, resolved_at=timezone.now()
    )


# ---- actions -------------------------------------------------------------------------------------------


def _get(model, pk, what: str, **extra):
    try:
        obj = model.objects.filter(pk=int(pk), **extra).first()
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        raise Refused("not_found", f"{what} not found", 404)
    return obj


def _set_paper_hidden(paper: Paper, hidden: bool) -> None:
    if not Paper.objects.filter(pk=paper.pk, hidden=not hidden).update(hidden=hidden):
        raise Refused("no_change", "the paper already is " + ("hidden" if hidden else "visible"), 409)


def act(moderator, action: str, target_id, reason: str = "") -> ModerationAction:
    """Do one moderator action and log it. Raises Refused (403 for non-moderators)."""
    if not is_moderator(moderator):
        raise Refused("forbidden", "moderators only", 403)
    if action not in ACTIONS:
        raise Refused("bad_action", "unknown moderation action", 400)
    reason = storable(reason or "").strip()[:REASON_MAX]
    kind = ACTIONS[action]
    with transaction.atomic():
        if kind == "paper":
            paper = _get(Paper, target_id, "paper")
            _set_paper_hidden(paper, action == "hide_paper")
            pk = paper.pk
            if action == "hide_paper":
                _resolve_flags(moderator, Flag.PAPER, pk)
        elif kind == "submission":
            # Submissions have no state of their own: hiding one takes its paper off the feeds.
            sub = _get(Submission, target_id, "submission")
            _set_paper_hidden(sub.paper, action == "hide_submission")
            pk = sub.pk
            if action == "hide_submission":
                _resolve_flags(moderator, Flag.SUBMISSION, pk)
        elif kind == "comment":
            c = _get(Comment, target_id, "comment")
            hide = action == "hide_comment"
            if not comments.set_hidden(c, hide):
                raise Refused("no_change", "the comment already is " + ("hidden" if hide else "visible"), 409)
            pk = c.pk
            if hide:
                _resolve_flags(moderator, Flag.COMMENT, pk)
        elif kind == "user":
            target = _get(get_user_model(), target_id, "user")
            pk = target.pk
            profile = profile_of(target)
            if action == "ban_user":
                if target.pk == moderator.pk or target.is_staff or target.is_superuser:
                    raise Refused("forbidden", "moderators and admins cannot be banned here", 403)
                if not reason:
                    raise Refused("empty", "give a reason for the ban (the user may see it)", 400)
                if profile.banned:
                    raise Refused("no_change", "this user already is banned", 409)
                Profile.objects.filter(pk=profile.pk).update(banned_at=timezone.now(), ban_reason=reason)
            else:
                if not profile.banned:
                    raise Refused("no_change", "this user is not banned", 409)
                Profile.objects.filter(pk=profile.pk).update(banned_at=None, ban_reason="")
        elif kind == "flag":
            f = _get(Flag, target_id, "flag")
            if f.status != Flag.OPEN:
                raise Refused("no_change", "this flag already is resolved", 409)
            Flag.objects.filter(pk=f.pk).update(
                status=Flag.RESOLVED, resolved_by=moderator, resolved_at=timezone.now()
            )
            pk = f.pk
        else:  # claim
            row = _get(AuthorClaim, target_id, "claim")
            claims.decide(moderator, row, approve=action == "approve_claim")
            pk = row.pk
        freshness.changed()  # hidden papers and comments, bans: the actions write with QuerySet.update()
        return ModerationAction.objects.create(
            moderator=moderator, action=action, target_kind=kind, target_id=pk, reason=reason
        )


# ---- the queue -----------------------------------------------------------------------------------------


@dataclass
class QueueItem:
    kind: str
    target_id: int
    target: object | None  # Paper, Submission or Comment; None when it no longer exists
    flags: list[Flag] = field(default_factory=list)
    author: object | None = None  # the user behind the content, who can be banned

    @property
    def hidden(self) -> bool:
        t = self.target
        if isinstance(t, Paper):
            return t.hidden
        if isinstance(t, Submission):
            return t.paper.hidden
        if isinstance(t, Comment):
            return t.hidden
        return False

    @property
    def author_banned(self) -> bool:
        return bool(self.author is not None and profile_of(self.author).banned)


def queue(limit: int = 200) -> list[QueueItem]:
    """Open flags grouped by what they report, oldest report first, with the reported content."""
    flags = list(
        Flag.objects.filter(status=Flag.OPEN).select_related("reporter").order_by("created", "pk")[:limit]
    )
    ids: dict[str, set[int]] = {Flag.PAPER: set(), Flag.SUBMISSION: set(), Flag.COMMENT: set()}
    for f in flags:
        ids.setdefault(f.target_kind, set()).add(f.target_id)
    targets = {
        Flag.PAPER: Paper.objects.in_bulk(ids[Flag.PAPER]),
        Flag.SUBMISSION: Submission.objects.select_related("paper", "submitter").in_bulk(
            ids[Flag.SUBMISSION]
        ),
        Flag.COMMENT: Comment.objects.select_related("paper", "user").in_bulk(ids[Flag.COMMENT]),
    }
    items: dict[tuple[str, int], QueueItem] = {}
    for f in flags:
        key = (f.target_kind, f.target_id)
        if key not in items:
            target = targets.get(f.target_kind, {}).get(f.target_id)
            author = None
            if isinstance(target, Submission):
                author = target.submitter
            elif isinstance(target, Comment):
                author = target.user
            items[key] = QueueItem(f.target_kind, f.target_id, target, author=author)
        items[key].flags.append(f)
    return list(items.values())


def pending_claims(limit: int = 100) -> list[AuthorClaim]:
    return list(
        AuthorClaim.objects.filter(status=AuthorClaim.PENDING)
        .select_related("paper", "user")
        .order_by("created", "pk")[:limit]
    )


def hidden_content(limit: int = 50) -> tuple[list[Paper], list[Comment]]:
    papers = list(Paper.objects.filter(hidden=True).order_by("-modified")[:limit])
    hidden_comments = list(
        Comment.objects.filter(hidden=True).select_related("paper", "user").order_by("-pk")[:limit]
    )
    return papers, hidden_comments


def banned_users(limit: int = 100) -> list[Profile]:
    qs = Profile.objects.filter(banned_at__isnull=False).select_related("user")
    return list(qs.order_by("-banned_at")[:limit])


def log(offset: int = 0, limit: int = 100, action: str | None = None) -> list[ModerationAction]:
    qs = ModerationAction.objects.select_related("moderator").order_by("-created", "-pk")
    if action:
        qs = qs.filter(action=action)
    return list(qs[offset : offset + limit])
