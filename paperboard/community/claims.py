"""Author claims: a user says which author of a paper they are; an admin approves or rejects; an
approved author may set the paper's code repository and project page."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from paperboard.accounts.status import check_can_write
from paperboard.community.models import AuthorClaim
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper, PaperAuthor

URL_MAX = 500


def author_names(paper: Paper) -> list[str]:
    names = getattr(paper, "author_names", None)
    if names is None:
        rows = PaperAuthor.objects.filter(paper=paper).order_by("position")
        names = list(rows.values_list("name", flat=True))
    return names


def claim(user, paper: Paper, author_name: str) -> AuthorClaim:
    """File a pending claim that `user` is `author_name` of `paper`."""
    check_can_write(user)
    if paper.hidden:
        raise Refused("not_found", "paper not found", 404)
    author_name = (author_name or "").strip()
    if author_name not in author_names(paper):
        raise Refused("not_an_author", "pick one of the paper's authors", 400)
    live = AuthorClaim.objects.filter(paper=paper, user=user).exclude(status=AuthorClaim.REJECTED).first()
    if live is not None:
        raise Refused("already_claimed", f"you already claimed this paper ({live.status})", 409)
    if AuthorClaim.objects.filter(paper=paper, author_name=author_name, status=AuthorClaim.APPROVED).exists():
        raise Refused("name_taken", "another account is already approved as this author", 409)
    try:
        with transaction.atomic():
            return AuthorClaim.objects.create(paper=paper, user=user, author_name=author_name)
    except IntegrityError:
        raise Refused("already_claimed", "you already claimed this paper", 409) from None


def decide(moderator, claim_row: AuthorClaim, approve: bool) -> AuthorClaim:
    """Approve or reject a pending claim (moderators only; the caller writes the audit row)."""
    if not (moderator and moderator.is_authenticated and moderator.is_staff):
        raise Refused("forbidden", "moderators only", 403)
    if claim_row.status != AuthorClaim.PENDING:
        raise Refused("decided", f"this claim was already {claim_row.status}", 409)
    if approve and AuthorClaim.objects.filter(
        paper_id=claim_row.paper_id, author_name=claim_row.author_name, status=AuthorClaim.APPROVED
    ).exists():
        raise Refused("name_taken", "another account is already approved as this author", 409)
    claim_row.status = AuthorClaim.APPROVED if approve else AuthorClaim.REJECTED
    claim_row.decided_by, claim_row.decided_at = moderator, timezone.now()
    try:
        with transaction.atomic():
            claim_row.save(update_fields=["status", "decided_by", "decided_at"])
    except IntegrityError:
        raise Refused("name_taken", "another account is already approved as this author", 409) from None
    return claim_row


def is_approved_author(user, paper: Paper) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and AuthorClaim.objects.filter(paper=paper, user=user, status=AuthorClaim.APPROVED).exists()
    )


def approved(paper: Paper) -> list[AuthorClaim]:
    """Approved claims of a paper, in the paper's author order."""
    rows = list(AuthorClaim.objects.filter(paper=paper, status=AuthorClaim.APPROVED).select_related("user"))
    order = {name: i for i, name in reversed(list(enumerate(author_names(paper))))}
    rows.sort(key=lambda r: order.get(r.author_name, len(order)))
    return rows


def _check_url(value: str, field: str, *, github: bool) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > URL_MAX:
        raise Refused("bad_url", f"{field}: at most {URL_MAX} characters", 400)
    if any(ch.isspace() or ord(ch) < 32 for ch in value) or any(ch in value for ch in "\"'<>\\"):
        raise Refused("bad_url", f"{field}: not a valid URL", 400)
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise Refused("bad_url", f"{field}: not a valid URL", 400) from None
    if parts.username or parts.password:
        raise Refused("bad_url", f"{field}: no user names or passwords in links", 400)
    if github:
        segments = [s for s in parts.path.split("/") if s]
        if parts.scheme != "https" or host not in {"github.com", "www.github.com"} or len(segments) < 2:
            raise Refused("bad_url", f"{field}: must be an https://github.com/OWNER/REPO address", 400)
    else:
        if parts.scheme not in {"http", "https"} or not host or "." not in host and host != "localhost":
            raise Refused("bad_url", f"{field}: must be an http:// or https:// address", 400)
    return value


def set_links(user, paper: Paper, github_repo: str, project_page: str) -> Paper:
    """Set (or clear, with "") the paper's code repository and project page. Approved authors only."""
    check_can_write(user)
    if not is_approved_author(user, paper):
        raise Refused("not_an_author", "only an approved author of this paper can set its links", 403)
    repo = _check_url(github_repo, "Code repository", github=True)
    page = _check_url(project_page, "Project page", github=False)
    Paper.objects.filter(pk=paper.pk).update(github_repo=repo, project_page=page)
    paper.github_repo, paper.project_page = repo, page
    freshness.changed()  # a QuerySet.update(): no model signal
    return paper
