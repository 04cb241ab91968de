"""Read queries behind the feeds, the paper page and the API. Each runs a fixed number of queries.

Lists rank paper ids here and load what they show with `load_cards` (papers.cards), the one paper loader."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, F, Max, Min, QuerySet
from django.utils import timezone

from paperboard.papers import periods, ranking
from paperboard.papers.cards import Card, CardSubmission, load_cards
from paperboard.papers.models import Paper, PaperCategory, Submission, Vote

SORTS = ("upvotes", "publishedAt", "trending")


def visible_submissions() -> QuerySet[Submission]:
    return Submission.objects.filter(paper__hidden=False)


def latest_day() -> dt.date | None:
    return visible_submissions().aggregate(d=Max("day"))["d"]


def neighbours(period: periods.Period) -> tuple[periods.Period | None, periods.Period | None]:
    """The nearest earlier and later periods of the same kind that have papers on the feed (2 queries)."""
    qs = Submission.objects.filter(paper__hidden=False)
    before = qs.filter(day__lt=period.start).aggregate(d=Max("day"))["d"]
    after = qs.filter(day__gt=period.end).aggregate(d=Min("day"))["d"]
    make = {"date": periods.day, "week": periods.week_of, "month": periods.month_of}[period.kind]
    return (make(before) if before else None, make(after) if after else None)


def feed(
    period: periods.Period | None = None,
    *,
    sort: str = "upvotes",
    offset: int = 0,
    limit: int = 50,
    submitter: str | None = None,
    now: dt.datetime | None = None,
    category: str | None = None,
    user=None,
) -> list[CardSubmission]:
    """Submissions in `period` (all time when None), ranked by `sort`: each the `feed_submission` of its
    paper's card (`.paper`; see papers.cards), `voted` set for `user` when given.

    `category` (an arXiv code such as `cs.LG`) keeps only papers that have it among their categories.

    Sorts: `upvotes` (most first; the default), `publishedAt` (newest on the feed first), `trending`
    (see ranking.trending; only the last TRENDING_WINDOW_DAYS of the feed are candidates; each item
    gets `.trending`, its breakdown, and `.trending_score`). One query ranks the paper ids (trending: two,
    the candidates' signals and their trusted votes), then `load_cards` loads the page.
    """
    qs = Submission.objects.filter(paper__hidden=False)
    if period is not None:
        qs = qs.filter(day__gte=period.start, day__lte=period.end)
    if submitter:
        qs = qs.filter(submitter__username=submitter)
    if category:
        qs = qs.filter(paper_id__in=PaperCategory.objects.filter(code=category).values("paper_id"))
    breakdown: dict[int, ranking.Trending] = {}
    if sort == "trending":
        now = now or timezone.now()
        qs = qs.filter(submitted_at__gte=trending_cutoff(now))
        counted = trusted_vote_counts(qs.values("paper_id"))
        ranked = []
        for pid, at, upvotes, imported, comments, stars, repo, arxiv_id in qs.values_list(
            "paper_id", "submitted_at", "paper__upvotes", "paper__imported_upvotes", "paper__num_comments",
            "paper__github_stars", "paper__github_repo", "paper__arxiv_id",
        ):
            breakdown[pid] = _trending(counted.get(pid, 0), at, now, imported, comments, stars, repo)
            ranked.append((-breakdown[pid].score, -upvotes, arxiv_id, pid))
        ranked.sort()
        ids = [pid for *_, pid in ranked[offset : offset + limit]]
    else:
        if sort == "publishedAt":
            order = ("-submitted_at", "-paper__upvotes", "paper__arxiv_id")
        elif period is None:
            order = ("-day", "-paper__upvotes", "paper__arxiv_id")
        else:
            order = ("-paper__upvotes", "-submitted_at", "paper__arxiv_id")
        ids = list(qs.order_by(*order).values_list("paper_id", flat=True)[offset : offset + limit])
    items = [c.feed_submission for c in load_cards(ids, user=user) if c.feed_submission is not None]
    for s in items:
        if s.paper_id in breakdown:
            s.trending = breakdown[s.paper_id]
            s.trending_score = s.trending.score
    return items


# ---- Trending -------------------------------------------------------------------------------------------


def trending_cutoff(now: dt.datetime) -> dt.datetime:
    """Papers put on the feed at or after this time are trending candidates."""
    return now - dt.timedelta(days=ranking.TRENDING_WINDOW_DAYS)


def trending_count(now: dt.datetime | None = None) -> int:
    return visible_submissions().filter(submitted_at__gte=trending_cutoff(now or timezone.now())).count()


def trusted_vote_counts(paper_ids) -> dict[int, int]:
    """Local votes that count toward trending, by paper id, in one aggregate query.

    `paper_ids` is a list of ids or a `values("paper_id")` subquery. A vote counts when its account has a
    confirmed email, is active and not banned, and was at least PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS
    old when it voted (Vote.created - User.date_joined). Imported upvotes are added by the caller.
    """
    min_age = dt.timedelta(hours=settings.PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS)
    rows = (
        Vote.objects.filter(
            paper_id__in=paper_ids,
            user__is_active=True,
            user__profile__email_confirmed_at__isnull=False,
            user__profile__banned_at__isnull=True,
            created__gte=F("user__date_joined") + min_age,
        )
        .values("paper_id")
        .annotate(n=Count("id"))
        .values_list("paper_id", "n")
    )
    return dict(rows)


def trending_of(
    paper: Paper, submission: Submission, counted_votes: int, now: dt.datetime
) -> ranking.Trending:
    """Trending breakdown of `paper` (on the feed since `submission`) with `counted_votes` trusted votes."""
    return _trending(counted_votes, submission.submitted_at, now, paper.imported_upvotes, paper.num_comments,
                     paper.github_stars, paper.github_repo)


def _trending(counted_votes: int, submitted_at: dt.datetime, now: dt.datetime, imported_upvotes: int,
              num_comments: int, github_stars: int | None, github_repo: str) -> ranking.Trending:
    return ranking.trending(
        counted_votes,
        ranking.age_hours(submitted_at, now),
        imported_upvotes=imported_upvotes,
        num_comments=num_comments,
        github_stars=github_stars,
        has_repo=bool(github_repo),
    )


def feed_count(period: periods.Period) -> int:
    return visible_submissions().filter(day__gte=period.start, day__lte=period.end).count()


def paper(arxiv_id: str, *, user=None) -> Paper | None:
    """The visible paper with this arXiv id (no version), with its card's `author_names`,
    `category_codes`, `feed_submission` and `voted` (for `user`) set on it."""
    p = Paper.objects.filter(arxiv_id=arxiv_id, hidden=False).first()
    if p is None:
        return None
    cards = load_cards([p.pk], user=user)
    if not cards:  # hidden meanwhile
        return None
    card = cards[0]
    p.author_names, p.category_codes = card.author_names, card.category_codes
    p.feed_submission, p.voted = card.feed_submission, card.voted
    return p


def papers_after(cursor: int, limit: int) -> list[Card]:
    """The cards of all visible papers in insertion order after internal id `cursor` (keyset paging)."""
    return load_cards(Paper.objects.filter(pk__gt=cursor, hidden=False).order_by("pk").values_list("pk", flat=True)[:limit])
