"""Read queries behind the feeds, the paper page and the API. Each runs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from django.conf import settings
from django.db.models import Count, F, Max, Min, QuerySet
from django.utils import timezone

from paperboard.papers import periods, ranking
from paperboard.papers.models import Paper, PaperAuthor, PaperCategory, Submission, Vote

SORTS = ("upvotes", "publishedAt", "trending")


def visible_submissions() -> QuerySet[Submission]:
    return Submission.objects.filter(paper__hidden=False).select_related("paper", "submitter")


def latest_day() -> dt.date | None:
    return visible_submissions().aggregate(d=Max("day"))["d"]


def neighbours(period: periods.Period) -> tuple[periods.Period | None, periods.Period | None]:
    """The nearest earlier and later periods of the same kind that have papers on the feed (2 queries)."""
    qs = Submission.objects.filter(paper__hidden=False)
    before = qs.filter(day__lt=period.start).aggregate(d=Max("day"))["d"]
    after = qs.filter(day__gt=period.end).aggregate(d=Min("day"))["d"]
    make = {"date": periods.day, "week": periods.week_of, "month": periods.month_of}[period.kind]
    return (make(before) if before else None, make(after) if after else None)


def attach_people(papers: Sequence[Paper]) -> None:
    """Set `.author_names` and `.category_codes` on each paper (2 queries for the whole list)."""
    by_id = {p.pk: p for p in papers}
    authors: dict[int, list[str]] = defaultdict(list)
    cats: dict[int, list[str]] = defaultdict(list)
    if by_id:
        for pid, name in PaperAuthor.objects.filter(paper_id__in=by_id).order_by("paper_id", "position").values_list(
            "paper_id", "name"
        ):
            authors[pid].append(name)
        for pid, code in PaperCategory.objects.filter(paper_id__in=by_id).order_by(
            "paper_id", "position"
        ).values_list("paper_id", "code"):
            cats[pid].append(code)
    for pk, p in by_id.items():
        p.author_names = authors[pk]
        p.category_codes = cats[pk]


def feed(
    period: periods.Period | None = None,
    *,
    sort: str = "upvotes",
    offset: int = 0,
    limit: int = 50,
    submitter: str | None = None,
    now: dt.datetime | None = None,
    category: str | None = None,
) -> list[Submission]:
    """Submissions in `period` (all time when None), ranked by `sort`, with papers and authors attached.

    `category` (an arXiv code such as `cs.LG`) keeps only papers that have it among their categories.

    Sorts: `upvotes` (most first; the default), `publishedAt` (newest on the feed first), `trending`
    (see ranking.trending; only the last TRENDING_WINDOW_DAYS of the feed are candidates; each item
    gets `.trending`, its breakdown, and `.trending_score`). Trending runs 2 queries before attach_people.
    """
    qs = visible_submissions()
    if period is not None:
        qs = qs.filter(day__gte=period.start, day__lte=period.end)
    if submitter:
        qs = qs.filter(submitter__username=submitter)
    if category:
        qs = qs.filter(paper_id__in=PaperCategory.objects.filter(code=category).values("paper_id"))
    if sort == "trending":
        now = now or timezone.now()
        qs = qs.filter(submitted_at__gte=trending_cutoff(now))
        candidates = list(qs)
        counted = trusted_vote_counts(qs.values("paper_id"))
        for s in candidates:
            s.trending = trending_of(s.paper, s, counted.get(s.paper_id, 0), now)
            s.trending_score = s.trending.score
        candidates.sort(key=lambda s: (-s.trending_score, -s.paper.upvotes, s.paper.arxiv_id))
        items = candidates[offset : offset + limit]
    else:
        if sort == "publishedAt":
            order = ("-submitted_at", "-paper__upvotes", "paper__arxiv_id")
        elif period is None:
            order = ("-day", "-paper__upvotes", "paper__arxiv_id")
        else:
            order = ("-paper__upvotes", "-submitted_at", "paper__arxiv_id")
        items = list(qs.order_by(*order)[offset : offset + limit])
    attach_people([s.paper for s in items])
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
    return ranking.trending(
        counted_votes,
        ranking.age_hours(submission.submitted_at, now),
        imported_upvotes=paper.imported_upvotes,
        num_comments=paper.num_comments,
        github_stars=paper.github_stars,
        has_repo=bool(paper.github_repo),
    )


def feed_count(period: periods.Period) -> int:
    return visible_submissions().filter(day__gte=period.start, day__lte=period.end).count()


def paper(arxiv_id: str) -> Paper | None:
    """The visible paper with this arXiv id (no version), with authors, categories and submission."""
    p = Paper.objects.filter(arxiv_id=arxiv_id, hidden=False).first()
    if p is None:
        return None
    attach_people([p])
    p.feed_submission = Submission.objects.filter(paper=p).select_related("submitter").first()
    return p


def papers_after(cursor: int, limit: int) -> list[Paper]:
    """All visible papers in insertion order after internal id `cursor` (keyset paging)."""
    items = list(Paper.objects.filter(pk__gt=cursor, hidden=False).order_by("pk")[:limit])
    attach_people(items)
    return items
