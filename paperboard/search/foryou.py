""""For you": papers near what a reader upvoted and collected, each with the reason it is there.

How the feed is made (`recommend`):
1. Signals: the reader's upvotes and the papers in their collections (the newest MAX_SIGNALS).
2. With stored (or, for a few, freshly made) embeddings of those papers: the *taste vector* is their mean,
   normalised. Papers on the feed in the last RECENT_DAYS days come first, ranked by cosine similarity to
   it (those above MIN_RECENT_SCORE); older papers from the whole index fill the rest. Papers the reader
   voted on or collected are never suggested. Each suggestion names the liked paper nearest to it:
   "because you upvoted “…”".
3. No signals yet (or nothing embedded yet): the arXiv categories the reader picked at onboarding
   (`Interest`): their recent papers on the feed by upvotes, then their newest papers.
4. Nothing at all: the onboarding page — pick a few categories, or upvote a few recent papers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import Count, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from paperboard.accounts.status import writer_required
from paperboard.community.models import CollectionItem
from paperboard.papers import queries, shapes
from paperboard.papers.models import Paper, PaperCategory, Submission, Vote
from paperboard.search import semantic
from paperboard.search.models import Interest
from paperboard.search.semantic import store

RECENT_DAYS = 30
MAX_SIGNALS = 200
MIN_STORED_SIGNALS = 3  # fewer liked papers with a stored vector than this: embed up to this many now
RECENT_POOL = 5000  # newest feed papers scored against the taste vector
MIN_RECENT_SCORE = 0.2  # below this cosine a recent paper is not "for you" (unrelated MiniLM pairs: ~0-0.15)
DEFAULT_LIMIT = 30
MAX_INTERESTS = 20
CATEGORY_RE = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")

# Names of the categories most often offered at onboarding; any other code is shown as it is.
CATEGORY_NAMES = {
    "cs.AI": "Artificial Intelligence", "cs.CL": "Computation and Language", "cs.CV": "Computer Vision",
    "cs.LG": "Machine Learning", "cs.RO": "Robotics", "cs.IR": "Information Retrieval",
    "cs.NE": "Neural and Evolutionary Computing", "cs.CR": "Cryptography and Security",
    "cs.SE": "Software Engineering", "cs.DC": "Distributed Computing", "cs.HC": "Human-Computer Interaction",
    "cs.MA": "Multiagent Systems", "cs.SD": "Sound", "cs.GR": "Graphics", "cs.DB": "Databases",
    "cs.PL": "Programming Languages", "cs.DS": "Data Structures and Algorithms", "cs.CY": "Computers and Society",
    "stat.ML": "Machine Learning (Statistics)", "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing", "eess.SP": "Signal Processing", "eess.SY": "Systems and Control",
    "math.OC": "Optimization and Control", "q-bio.QM": "Quantitative Methods",
    "physics.comp-ph": "Computational Physics",
}


@dataclass
class Item:
    paper: queries.Card
    reason: str
    reason_kind: str  # "upvoted", "collected", "interest"
    recent: bool
    score: float | None = None
    reason_paper: Paper | None = None
    reason_category: str | None = None


@dataclass
class Feed:
    mode: str  # "semantic", "interests" or "onboarding"
    items: list[Item] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    signals: int = 0

    @property
    def recent_items(self) -> list[Item]:
        return [i for i in self.items if i.recent]

    @property
    def older_items(self) -> list[Item]:
        return [i for i in self.items if not i.recent]


def interests_of(user) -> list[str]:
    return list(Interest.objects.filter(user=user).order_by("category").values_list("category", flat=True))


def set_interests(user, codes) -> list[str]:
    """Replace the reader's categories with `codes` (cleaned, at most MAX_INTERESTS)."""
    clean: list[str] = []
    for code in codes:
        code = (code or "").strip()
        if code and CATEGORY_RE.match(code) and len(code) <= 40 and code not in clean:
            clean.append(code)
    clean = clean[:MAX_INTERESTS]
    with transaction.atomic():
        Interest.objects.filter(user=user).exclude(category__in=clean).delete()
        have = set(Interest.objects.filter(user=user).values_list("category", flat=True))
        Interest.objects.bulk_create([Interest(user=user, category=c) for c in clean if c not in have])
    return clean


def _signals(user) -> tuple[dict[int, tuple[str, str | None]], set[int]]:
    """({paper id: ("upvoted"|"collected", collection name)} newest first, ids never to suggest)."""
    liked: dict[int, tuple[str, str | None]] = {}
    voted = Vote.objects.filter(user=user).order_by("-created").values_list("paper_id", flat=True)
    for pid in voted[:MAX_SIGNALS]:
        liked[pid] = ("upvoted", None)
    items = (
        CollectionItem.objects.filter(collection__user=user)
        .order_by("-added")
        .values_list("paper_id", "collection__name")[:MAX_SIGNALS]
    )
    for pid, name in items:
        liked.setdefault(pid, ("collected", name))
    never = set(Vote.objects.filter(user=user).values_list("paper_id", flat=True))
    never |= set(CollectionItem.objects.filter(collection__user=user).values_list("paper_id", flat=True))
    return liked, never


def _reason(kind: str, paper: Paper, collection: str | None) -> str:
    if kind == "upvoted":
        return f"because you upvoted “{paper.title}”"
    where = f" in {collection}" if collection else ""
    return f"because you saved “{paper.title}”{where}"


def _recent_cutoff(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=RECENT_DAYS)


def _semantic_feed(user, liked, never, limit: int, today: dt.date) -> Feed | None:
    liked_papers = list(Paper.objects.filter(pk__in=list(liked), hidden=False))
    order = {pid: i for i, pid in enumerate(liked)}
    liked_papers.sort(key=lambda p: order[p.pk])
    if not liked_papers or not store.has_embeddings():
        return None
    # Embed liked papers on the fly only while too few have a stored vector: the first load of the model
    # takes seconds, and a taste vector from a handful of papers is good enough until the next index run.
    vecs = store.load([p.pk for p in liked_papers])
    if len(vecs) < MIN_STORED_SIGNALS:
        vecs = semantic.vectors_for(liked_papers, max_embed=MIN_STORED_SIGNALS)
    liked_papers = [p for p in liked_papers if p.pk in vecs]
    if not liked_papers:
        return None
    L = np.stack([vecs[p.pk] for p in liked_papers])
    taste = L.mean(axis=0)
    norm = float(np.linalg.norm(taste))
    if not norm:
        return None
    taste = taste / norm

    # 1. Recent papers on the feed, by similarity to the taste vector.
    recent_ids = list(
        Submission.objects.filter(day__gte=_recent_cutoff(today), paper__hidden=False)
        .exclude(paper_id__in=never)
        .order_by("-submitted_at")
        .values_list("paper_id", flat=True)[:RECENT_POOL]
    )
    recent_vecs = store.load(recent_ids)
    chosen: list[tuple[int, float, bool]] = []
    if recent_vecs:
        ids = list(recent_vecs)
        scores = np.stack([recent_vecs[i] for i in ids]) @ taste
        ranked = sorted(zip(ids, scores.tolist()), key=lambda t: (-t[1], t[0]))
        chosen = [(pid, s, True) for pid, s in ranked if s >= MIN_RECENT_SCORE][:limit]
    # 2. The rest from everything indexed.
    if len(chosen) < limit:
        taken = never | {pid for pid, _, _ in chosen}
        for hit in semantic.search_vector(taste, limit - len(chosen), exclude_ids=taken):
            chosen.append((hit.paper_id, hit.score, False))
    if not chosen:
        return Feed("semantic", [], signals=len(liked))

    # Reasons: the liked paper nearest to each suggestion.
    cand_vecs = {**recent_vecs, **store.load([pid for pid, _, _ in chosen if pid not in recent_vecs])}
    papers = {c.pk: c for c in queries.load_cards(pid for pid, _, _ in chosen)}
    out: list[Item] = []
    for pid, score, recent in chosen:
        p = papers.get(pid)
        if p is None:
            continue
        v = cand_vecs.get(pid)
        nearest_liked = liked_papers[int(np.argmax(L @ v))] if v is not None else liked_papers[0]
        kind, collection = liked[nearest_liked.pk]
        out.append(Item(p, _reason(kind, nearest_liked, collection), kind, recent, score, nearest_liked))
    return Feed("semantic", out, signals=len(liked))


def _interest_feed(user, cats: list[str], never: set[int], limit: int, today: dt.date) -> Feed:
    in_cats = PaperCategory.objects.filter(code__in=cats).values("paper_id")
    recent_ids = list(
        Submission.objects.filter(
            day__gte=_recent_cutoff(today), paper__hidden=False, paper_id__in=Subquery(in_cats)
        )
        .exclude(paper_id__in=never)
        .order_by("-paper__upvotes", "-submitted_at", "paper__arxiv_id")
        .values_list("paper_id", flat=True)[:limit]
    )
    more_ids = []
    if len(recent_ids) < limit:
        more_ids = list(
            Paper.objects.filter(hidden=False, pk__in=Subquery(in_cats))
            .exclude(pk__in=never | set(recent_ids))
            .order_by("-published_at", "-pk")
            .values_list("pk", flat=True)[: limit - len(recent_ids)]
        )
    recent_set = set(recent_ids)
    items = []
    for p in queries.load_cards(recent_ids + more_ids):
        recent = p.pk in recent_set
        cat = next((c for c in p.category_codes if c in cats), cats[0])
        reason = f"{'new in' if recent else 'in'} {cat}, one of your interests"
        items.append(Item(p, reason, "interest", recent, reason_category=cat))
    return Feed("interests", items, interests=cats)


def recommend(user, limit: int = DEFAULT_LIMIT, today: dt.date | None = None) -> Feed:
    today = today or timezone.localdate()
    liked, never = _signals(user)
    cats = interests_of(user)
    feed = _semantic_feed(user, liked, never, limit, today) if liked else None
    if feed is not None and feed.items:
        feed.interests = cats
        return feed
    if cats:
        feed = _interest_feed(user, cats, never, limit, today)
        feed.signals = len(liked)
        return feed
    return Feed("onboarding", [], signals=len(liked))


def category_choices(picked: list[str], n: int = 24) -> list[tuple[str, str]]:
    """Categories to offer: the most common primary categories on the feed (else in the corpus), plus picks."""
    rows = (
        Paper.objects.filter(hidden=False, submission__isnull=False)
        .exclude(primary_category="")
        .values("primary_category")
        .annotate(n=Count("id"))
        .order_by("-n", "primary_category")[:n]
    )
    codes = [r["primary_category"] for r in rows]
    if len(codes) < 8:
        codes += [c for c in CATEGORY_NAMES if c not in codes][: n - len(codes)]
    codes += [c for c in picked if c not in codes]
    return [(c, CATEGORY_NAMES.get(c, "")) for c in codes]


def popular_recent(user, n: int = 10, today: dt.date | None = None) -> list[queries.Card]:
    """Cards of the most upvoted recent papers on the feed (else the latest ones), `voted` set for `user`."""
    today = today or timezone.localdate()
    visible = Submission.objects.filter(paper__hidden=False)
    ids = list(
        visible.filter(day__gte=_recent_cutoff(today))
        .order_by("-paper__upvotes", "-submitted_at")
        .values_list("paper_id", flat=True)[:n]
    )
    if not ids:
        ids = list(visible.order_by("-day", "-paper__upvotes").values_list("paper_id", flat=True)[:n])
    return queries.load_cards(ids, user=user)


# ---- Pages ------------------------------------------------------------------------------------------------


def _login_required(request: HttpRequest, fmt: str | None) -> HttpResponse | None:
    if request.user.is_authenticated:
        return None
    if fmt == ".json" or request.GET.get("format") == "json":
        return JsonResponse({"error": "log in to see papers for you", "code": "login_required"}, status=401)
    return redirect_to_login(request.get_full_path())


def _item_json(item: Item) -> dict:
    data = shapes.paper_json(item.paper)
    data["reason"] = item.reason
    data["reasonKind"] = item.reason_kind
    data["reasonPaper"] = item.reason_paper.arxiv_id if item.reason_paper else None
    data["reasonCategory"] = item.reason_category
    data["recent"] = item.recent
    data["score"] = None if item.score is None else round(float(item.score), 6)
    return data


@require_http_methods(["GET"])
def for_you_page(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    refused = _login_required(request, fmt)
    if refused:
        return refused
    feed = recommend(request.user)
    if fmt == ".json" or request.GET.get("format") == "json":
        return JsonResponse({
            "mode": feed.mode, "interests": feed.interests, "signals": feed.signals,
            "papers": [_item_json(i) for i in feed.items],
        })
    context = {"feed": feed, "json_url": "/for-you.json"}
    if feed.mode == "onboarding":
        context["choices"] = category_choices([])
        context["popular"] = popular_recent(request.user)
        context["items"] = context["popular"]  # lets the vote widgets look up the page's votes in one query
    return render(request, "search/foryou.html", context)


@require_http_methods(["GET", "POST"])
@writer_required
def interests_page(request: HttpRequest) -> HttpResponse:
    refused = _login_required(request, None)
    if refused:
        return refused
    if request.method == "POST":
        codes = request.POST.getlist("category") + re.split(r"[\s,]+", request.POST.get("other", ""))
        saved = set_interests(request.user, codes)
        if saved:
            messages.success(request, f"Following {len(saved)} categor{'y' if len(saved) == 1 else 'ies'}.")
        else:
            messages.info(request, "You follow no categories now.")
        return redirect("/for-you")
    picked = interests_of(request.user)
    return render(
        request,
        "search/foryou_interests.html",
        {"choices": category_choices(picked), "picked": picked},
    )
