"""Pages and form posts for discussion: comments, author claims and links, collections, flags, and the
moderation queue and audit log.

Every write is a POST with a CSRF token. Without JavaScript a write redirects back to where it came from
(a message says what happened); with htmx (`HX-Request`) it answers the re-rendered fragment. Refusals:
not logged in → login page with `next` (401 with `HX-Redirect` for htmx, JSON 401 for JSON clients);
someone else's thing → 403 or 404; bad input → a message, never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from paperboard import ratelimit
from paperboard.accounts.models import profile_of
from paperboard.community import claims, collections, comments, moderation
from paperboard.community.models import AuthorClaim, Collection, Comment
from paperboard.errors import Refused
from paperboard.papers import ids, queries
from paperboard.papers.models import Paper
from paperboard.web import is_htmx as _is_htmx
from paperboard.web import login_redirect as _login_redirect
from paperboard.web import page_number
from paperboard.web import refused_response as _refused
from paperboard.web import wants_json as _wants_json

INPUT_PROBLEMS = {400, 409}  # shown as a message beside the form, not as an error page


# ---- helpers -------------------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, default: str) -> str:
    """A same-site path to go back to: the form's `next`, else `default`."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) and candidate.startswith("/") and not candidate.startswith("//"):
        return candidate
    return default


def _bare_or_404(arxiv_id: str) -> str:
    """The id without its version; a 404 for one the route let through that cannot exist (`9999.99999`)."""
    try:
        return ids.split_version(arxiv_id)[0]
    except ids.InvalidArxivId:
        raise Http404("paper not found") from None


def _paper_or_404(arxiv_id: str) -> Paper:
    paper = queries.paper(_bare_or_404(arxiv_id))
    if paper is None:
        raise Http404("paper not found")
    return paper


def discuss_context(request: HttpRequest, paper: Paper, flash: dict | None = None) -> dict:
    """Everything the discussion part of a paper page shows (community/_discuss.html's `d`)."""
    user = getattr(request, "user", None)
    authed = bool(user is not None and user.is_authenticated)
    thread = comments.thread(paper) if not paper.hidden else []
    approved = claims.approved(paper)
    taken = {c.author_name for c in approved}
    names = claims.author_names(paper)
    my_claim = None
    banned = False
    if authed:
        banned = profile_of(user).banned
        my_claim = (
            AuthorClaim.objects.filter(paper=paper, user=user).order_by("-created", "-pk").first()
        )
    live_claim = my_claim is not None and my_claim.status != AuthorClaim.REJECTED
    return {
        "paper": paper,
        "submission": getattr(paper, "feed_submission", None),
        "authed": authed,
        "user": user if authed else None,
        "can_write": authed and not banned and user.is_active,
        "banned": banned,
        "is_moderator": moderation.is_moderator(user),
        "thread": thread,
        "visible_count": sum(1 for c in thread if c.visible),
        "approved_authors": approved,
        "my_claim": my_claim,
        "claimable_names": [n for n in dict.fromkeys(names) if n not in taken] if not live_claim else [],
        "is_author": authed and any(c.user_id == user.pk for c in approved),
        "collections": collections.for_paper(user, paper) if authed else [],
        "comment_max": comments.markdown.MAX_LENGTH,
        "flash": flash,
    }


def _paper_answer(request: HttpRequest, paper: Paper, section: str, anchor: str, *,
                  ok: str | None = None, error: str | None = None, status: int = 200) -> HttpResponse:
    """After a write from the paper page: the fragment (htmx), JSON, or a redirect back with a message."""
    if _is_htmx(request):
        flash = {"section": section, "text": error or ok, "error": bool(error)} if (error or ok) else None
        paper = queries.paper(paper.arxiv_id) or paper  # re-read: counters and links may have changed
        return render(request, "community/_discuss.html", {"d": discuss_context(request, paper, flash)})
    if _wants_json(request):
        if error:
            return JsonResponse({"error": error, "code": "invalid"}, status=max(status, 400))
        return JsonResponse({"ok": True, "message": ok or ""})
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    return redirect(f"{paper.get_absolute_url()}#{anchor}")


# ---- comments ------------------------------------------------------------------------------------------


def _comment_or_404(pk: int) -> Comment:
    c = Comment.objects.select_related("paper", "user").filter(pk=pk, paper__hidden=False).first()
    if c is None:
        raise Http404("comment not found")
    return c


@require_POST
@ratelimit.limit("comment")
def comment_post(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    paper = _paper_or_404(arxiv_id)
    back = f"{paper.get_absolute_url()}#comments"
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    parent = None
    parent_id = request.POST.get("parent") or ""
    if parent_id:
        parent = Comment.objects.filter(pk=int(parent_id) if parent_id.isdigit() else 0, paper=paper).first()
        if parent is None:
            return _paper_answer(request, paper, "comments", "comments", error="that comment is gone",
                                 status=400)
    try:
        c = comments.post(request.user, paper, request.POST.get("body", ""), parent=parent)
    except Refused as exc:
        if exc.status in INPUT_PROBLEMS:
            return _paper_answer(request, paper, "comments", "comments", error=exc.message, status=exc.status)
        return _refused(request, exc, back)
    if _wants_json(request):
        return JsonResponse(comments.comment_json(c), status=201)
    return _paper_answer(request, paper, "comments", f"comment-{c.pk}")


@require_POST
@ratelimit.limit("comment")
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    c = _comment_or_404(pk)
    back = f"{c.paper.get_absolute_url()}#comment-{c.pk}"
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    try:
        comments.edit(request.user, c, request.POST.get("body", ""))
    except Refused as exc:
        if exc.status in INPUT_PROBLEMS:
            return _paper_answer(request, c.paper, "comments", f"comment-{c.pk}", error=exc.message,
                                 status=exc.status)
        return _refused(request, exc, back)
    if _wants_json(request):
        return JsonResponse(comments.comment_json(c))
    return _paper_answer(request, c.paper, "comments", f"comment-{c.pk}")


@require_POST
def comment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    c = _comment_or_404(pk)
    back = f"{c.paper.get_absolute_url()}#comment-{c.pk}"
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    try:
        comments.delete(request.user, c)
    except Refused as exc:
        return _refused(request, exc, back)
    if _wants_json(request):
        return JsonResponse(comments.comment_json(c))
    return _paper_answer(request, c.paper, "comments", f"comment-{c.pk}", ok="Comment deleted.")


# ---- author claims and links ---------------------------------------------------------------------------


@require_POST
def claim_post(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    paper = _paper_or_404(arxiv_id)
    back = f"{paper.get_absolute_url()}#authors"
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    try:
        claims.claim(request.user, paper, request.POST.get("author_name", ""))
    except Refused as exc:
        if exc.status in INPUT_PROBLEMS:
            return _paper_answer(request, paper, "authors", "authors", error=exc.message, status=exc.status)
        return _refused(request, exc, back)
    return _paper_answer(request, paper, "authors", "authors",
                         ok="Thanks: a moderator will check your claim.")


@require_POST
def links_post(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    paper = _paper_or_404(arxiv_id)
    back = f"{paper.get_absolute_url()}#authors"
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    try:
        claims.set_links(request.user, paper, request.POST.get("github_repo", ""),
                         request.POST.get("project_page", ""))
    except Refused as exc:
        if exc.status in INPUT_PROBLEMS:
            return _paper_answer(request, paper, "authors", "authors", error=exc.message, status=exc.status)
        return _refused(request, exc, back)
    return _paper_answer(request, paper, "authors", "authors", ok="Links saved.")


# ---- collections ---------------------------------------------------------------------------------------


def _own_collection(user, key: str | None) -> Collection | None:
    if not key or not key.isdigit():
        return None
    return Collection.objects.filter(pk=int(key), user=user).first()


@require_POST
def collect(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    """Add the paper to one of the user's collections, or to a new one named `new_name`."""
    paper = _paper_or_404(arxiv_id)
    back = f"{paper.get_absolute_url()}#collections"
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    try:
        new_name = (request.POST.get("new_name") or "").strip()
        if new_name:
            target = collections.create(request.user, new_name, public=request.POST.get("public") == "on")
        else:
            key = request.POST.get("collection")
            target = _own_collection(request.user, key)
            if target is None:
                if key and Collection.objects.filter(pk=int(key) if key.isdigit() else 0).exists():
                    raise Refused("not_yours", "only its owner can change a collection", 403)
                raise Refused("empty", "pick a collection or name a new one", 400)
        added = collections.add(request.user, target, paper)
    except Refused as exc:
        if exc.status in INPUT_PROBLEMS:
            return _paper_answer(request, paper, "collections", "collections", error=exc.message,
                                 status=exc.status)
        return _refused(request, exc, back)
    text = f"Saved to “{target.name}”." if added else f"Already in “{target.name}”."
    return _paper_answer(request, paper, "collections", "collections", ok=text)


@require_POST
def uncollect(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    paper = Paper.objects.filter(arxiv_id=_bare_or_404(arxiv_id)).first()  # hidden papers can still be taken out
    if paper is None:
        raise Http404("paper not found")
    back = _safe_next(request, f"{paper.get_absolute_url()}#collections")
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    key = request.POST.get("collection") or ""
    target = _own_collection(request.user, key)
    try:
        if target is None:
            if key.isdigit() and Collection.objects.filter(pk=int(key)).exists():
                raise Refused("not_yours", "only its owner can change a collection", 403)
            raise Refused("not_found", "collection not found", 404)
        collections.remove(request.user, target, paper)
    except Refused as exc:
        return _refused(request, exc, back)
    text = f"Removed from “{target.name}”."
    if request.POST.get("next") and not _is_htmx(request):
        messages.success(request, text)
        return redirect(back)
    if paper.hidden:
        return redirect(back)
    return _paper_answer(request, queries.paper(paper.arxiv_id), "collections", "collections", ok=text)


@require_GET
def collection_index(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None:
        raise Http404("no such user")
    rows = collections.of_user(owner, request.user)
    return render(request, "community/collections.html", {"owner": owner, "collections": rows,
                                                          "is_owner": request.user.pk == owner.pk})


@require_GET
def collection_page(request: HttpRequest, username: str, slug: str) -> HttpResponse:
    try:
        c = collections.visible_to(request.user, username, slug)
    except Refused:
        raise Http404("collection not found") from None
    papers = collections.papers_in(c, user=request.user)
    return render(request, "community/collection.html", {
        "collection": c,
        "papers": papers,
        "is_owner": request.user.is_authenticated and request.user.pk == c.user_id,
    })


def _collection_for_write(request: HttpRequest, username: str, slug: str) -> Collection:
    """The collection a write names: 404 when the viewer may not even see it, 403 when seen but not theirs."""
    c = collections.visible_to(request.user, username, slug)
    if c.user_id != request.user.pk:
        raise Refused("not_yours", "only its owner can change a collection", 403)
    return c


@require_POST
def collection_edit(request: HttpRequest, username: str, slug: str) -> HttpResponse:
    back = f"/u/{username}/collections/{slug}"
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    try:
        c = _collection_for_write(request, username, slug)
        collections.update(request.user, c, name=request.POST.get("name", ""),
                           description=request.POST.get("description", ""),
                           public=request.POST.get("public") == "on")
    except Refused as exc:
        if exc.status in INPUT_PROBLEMS:
            messages.error(request, exc.message)
            return redirect(back)
        return _refused(request, exc, back)
    messages.success(request, "Collection saved.")
    return redirect(c.get_absolute_url())


@require_POST
def collection_delete(request: HttpRequest, username: str, slug: str) -> HttpResponse:
    back = f"/u/{username}/collections/{slug}"
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    try:
        c = _collection_for_write(request, username, slug)
        name = c.name
        collections.delete(request.user, c)
    except Refused as exc:
        return _refused(request, exc, back)
    messages.success(request, f"Collection “{name}” deleted.")
    return redirect(f"/u/{request.user.username}/collections")


# ---- flags ---------------------------------------------------------------------------------------------


@require_POST
@ratelimit.limit("flag")
def flag_post(request: HttpRequest) -> HttpResponse:
    back = _safe_next(request, "/papers")
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    try:
        moderation.flag(request.user, request.POST.get("kind", ""), request.POST.get("target"),
                        request.POST.get("reason", ""))
    except Refused as exc:
        if exc.status in INPUT_PROBLEMS:
            if _wants_json(request):
                return JsonResponse(exc.as_json(), status=exc.status)
            if _is_htmx(request):
                return render(request, "community/_flag_done.html", {"text": exc.message, "error": True})
            messages.error(request, exc.message)
            return redirect(back)
        return _refused(request, exc, back)
    text = "Thanks: the moderators will take a look."
    if _wants_json(request):
        return JsonResponse({"ok": True}, status=201)
    if _is_htmx(request):
        return render(request, "community/_flag_done.html", {"text": text, "error": False})
    messages.success(request, text)
    return redirect(back)


# ---- moderation ----------------------------------------------------------------------------------------


def _moderator_gate(request: HttpRequest, back: str) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return _login_redirect(request, back)
    if not moderation.is_moderator(request.user):
        return _refused(request, Refused("forbidden", "moderators only", 403), back)
    return None


@require_GET
def moderation_queue(request: HttpRequest) -> HttpResponse:
    gate = _moderator_gate(request, "/admin/moderation")
    if gate is not None:
        return gate
    hidden_papers, hidden_comments = moderation.hidden_content()
    return render(request, "admin/moderation.html", {
        "items": moderation.queue(),
        "claims": moderation.pending_claims(),
        "hidden_papers": hidden_papers,
        "hidden_comments": hidden_comments,
        "banned": moderation.banned_users(),
    })


@require_POST
def moderation_act(request: HttpRequest) -> HttpResponse:
    gate = _moderator_gate(request, "/admin/moderation")
    if gate is not None:
        return gate
    action = request.POST.get("action", "")
    try:
        moderation.act(request.user, action, request.POST.get("target"), request.POST.get("reason", ""))
    except Refused as exc:
        if exc.status in INPUT_PROBLEMS or exc.status == 404:
            if _wants_json(request):
                return JsonResponse(exc.as_json(), status=exc.status)
            messages.error(request, exc.message)
            return redirect(_safe_next(request, "/admin/moderation"))
        return _refused(request, exc, "/admin/moderation")
    if _wants_json(request):
        return JsonResponse({"ok": True})
    messages.success(request, f"Done: {action.replace('_', ' ')}.")
    return redirect(_safe_next(request, "/admin/moderation"))


LOG_PAGE = 100


@require_GET
def moderation_log(request: HttpRequest) -> HttpResponse:
    gate = _moderator_gate(request, "/admin/moderation/log")
    if gate is not None:
        return gate
    page = page_number(request)
    action = request.GET.get("action") or None
    if action not in moderation.ACTIONS:
        action = None
    rows = moderation.log(offset=page * LOG_PAGE, limit=LOG_PAGE + 1, action=action)
    return render(request, "admin/moderation_log.html", {
        "rows": rows[:LOG_PAGE],
        "page": page,
        "prev_page": page - 1 if page > 0 else None,
        "next_page": page + 1 if len(rows) > LOG_PAGE else None,
        "action": action or "",
        "actions": list(moderation.ACTIONS),
    })

