"""Pages of the feed features: submit a paper, upvote, trending.

GET/POST /papers/submit           the form and the rules with their current values
POST     /papers/<id>/upvote      action=add|remove (default: toggle); htmx gets the vote fragment
GET      /papers/trending[.json]  papers ranked by the trending score, and how it is computed
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from paperboard import ratelimit
from paperboard.community import rules, submissions, votes
from paperboard.errors import Refused
from paperboard.papers import caching, ids, queries, ranking, shapes
from paperboard.papers.models import Paper
from paperboard.web import page_number


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    """`next` from the form or query string when it is a path on this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


# ---- Submit ----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@ratelimit.limit("submit")
def submit_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    policy = rules.Policy.from_settings()
    context = {
        "rules": rule_lines_marked(policy, None),
        "policy": policy,
        "text": request.GET.get("id", ""),
        "note": "",
        "note_max": rules.NOTE_MAX_CHARS,
    }
    if request.method == "POST":
        text, note = request.POST.get("id", ""), request.POST.get("note", "")
        context.update(text=text, note=note)
        try:
            submission = submissions.submit(request.user, text, note)
        except Refused as exc:
            context.update(refusal=exc, rules=rule_lines_marked(policy, rules.RULE_OF.get(exc.code)))
            return render(request, "community/submit.html", context, status=exc.status)
        day = submission.day
        messages.success(
            request,
            f"Submitted: “{submission.paper.title}” is on the feed of {day:%b} {day.day}, {day.year}.",
        )
        return redirect(submission.paper.get_absolute_url())
    return render(request, "community/submit.html", context)


def rule_lines_marked(policy: rules.Policy, refused_key: str | None) -> list[dict]:
    return [{"key": k, "text": t, "refused": k == refused_key} for k, t in rules.rule_lines(policy)]


# ---- Upvote ----------------------------------------------------------------------------------------------


def _vote_fragment(
    request: HttpRequest, paper: Paper, voted: bool, next_url: str, error: str = ""
) -> HttpResponse:
    return render(
        request,
        "community/_vote.html",
        {
            "paper": paper,
            "voted_ids": {paper.pk} if voted else set(),
            "big": bool(request.POST.get("big")),
            "next_url": next_url,
            "vote_error": error,
        },
    )


@require_POST
@ratelimit.limit("vote")
def upvote(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    """Add, remove (`action=add|remove`) or toggle the user's vote.

    htmx gets the vote fragment to swap in place; a plain form post is redirected back to `next`.
    """
    try:
        bare, _version = ids.split_version(arxiv_id)
    except ids.InvalidArxivId:
        raise Http404(f"not an arXiv id: {arxiv_id}") from None
    paper = Paper.objects.filter(arxiv_id=bare, hidden=False).first()
    if paper is None:
        raise Http404(f"paper {bare} not found")
    back = _safe_next(request, paper.get_absolute_url())
    if not request.user.is_authenticated:
        login = redirect_to_login(back)
        if _is_htmx(request):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = login["Location"]
            return response
        return login
    action = request.POST.get("action", "toggle")
    try:
        if action == "add":
            votes.upvote(request.user, paper)
        elif action == "remove":
            votes.unvote(request.user, paper)
        elif not votes.unvote(request.user, paper):  # toggle: take back a vote, or else add one
            votes.upvote(request.user, paper)
    except Refused as exc:
        if _is_htmx(request):  # htmx swaps only 2xx answers: show the refusal inside the widget
            paper.upvotes = votes.current_upvotes(paper)
            response = _vote_fragment(request, paper, votes.has_voted(request.user, paper), back, exc.message)
            response["X-Refused"] = exc.code
            return response
        return render(request, "papers/error.html", {"message": exc.message}, status=exc.status)
    if _is_htmx(request):
        paper.upvotes = votes.current_upvotes(paper)
        return _vote_fragment(request, paper, votes.has_voted(request.user, paper), back)
    return redirect(back)


# ---- Trending --------------------------------------------------------------------------------------------


@require_GET
def trending_page(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    wants_json = fmt == ".json" or request.GET.get("format") == "json"
    page = page_number(request)
    size = settings.PAPERBOARD_FEED_PAGE_SIZE

    def build() -> HttpResponse:
        now = timezone.now()
        total = queries.trending_count(now)
        pages = max(1, math.ceil(total / size))
        items = queries.feed(sort="trending", offset=page * size, limit=size, now=now)
        if wants_json:
            return JsonResponse(
                {
                    "total": total,
                    "page": page,
                    "pages": pages,
                    "formula": ranking.formula_constants(),
                    "papers": [shapes.daily_item_json(s) for s in items],
                }
            )
        return render(
            request,
            "papers/trending.html",
            {
                "items": items,
                "voted_ids": votes.voted_ids(request.user, [s.paper_id for s in items]),
                "rank_offset": page * size,
                "total": total,
                "page": page,
                "pages": pages,
                "prev_page": page - 1 if page > 0 else None,
                "next_page": page + 1 if page + 1 < pages else None,
                "c": ranking.formula_constants(),
                "min_age_hours": settings.PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS,
                "canonical": "/papers/trending",
                "json_url": "/papers/trending.json",
            },
        )

    return caching.cached_response(request, build)
