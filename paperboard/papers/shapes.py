"""JSON shapes of papers and daily-feed items, following Hugging Face's papers API field names,
so `huggingface_hub.HfApi(endpoint=...)` reads them. Plain dicts: these are on the hot path."""

from __future__ import annotations

import datetime as dt

from paperboard.absolute import absolute_url
from paperboard.papers.cards import Card, CardSubmission


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """Format like the Hub does: `2025-01-31T17:59:55.000Z` (UTC, milliseconds)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def user_json(user) -> dict | None:
    if user is None:
        return None
    return {
        "_id": str(user.pk),
        "user": user.username,  # what huggingface_hub.User reads as .username
        "name": user.username,  # what the Hub itself sends
        "fullname": user.get_full_name() or user.username,
        "avatarUrl": "",
        "type": "user",
        "isPro": False,
    }


def paper_json(p: Card, submission: CardSubmission | None = None) -> dict:
    """A paper as `GET /api/papers/{id}` returns it, from its card (`papers.queries.load_cards`)."""
    data = {
        "id": p.arxiv_id,
        "authors": [
            {"_id": f"{p.arxiv_id}:{i}", "name": name, "hidden": False} for i, name in enumerate(p.author_names)
        ],
        "publishedAt": iso(p.published_at),
        "updatedAt": iso(p.updated_at),
        "title": p.title,
        "summary": p.abstract,
        "upvotes": p.upvotes,
        "numComments": p.num_comments,
        "discussionId": p.arxiv_id,
        "version": p.version,
        "categories": p.category_codes,
        "primaryCategory": p.primary_category or None,
        "comment": p.comment or None,
        "journalRef": p.journal_ref or None,
        "doi": p.doi or None,
        "githubRepo": p.github_repo or None,
        "projectPage": p.project_page or None,
        "githubStars": p.github_stars,
        "arxivUrl": p.abs_url,
        "pdfUrl": p.pdf_url,
        "url": absolute_url(p.get_absolute_url()),
    }
    if submission is not None:
        data["submittedOnDailyAt"] = iso(submission.submitted_at)
        data["submittedOnDailyBy"] = user_json(submission.submitter)
        data["feedDay"] = submission.day.isoformat()
    return data


def daily_item_json(s: CardSubmission) -> dict:
    """One item of `GET /api/daily_papers`: the paper plus its day on the feed (a card's `feed_submission`)."""
    p = s.paper
    item = {
        "paper": paper_json(p, s),
        "publishedAt": iso(s.submitted_at),
        "title": p.title,
        "summary": p.abstract,
        "thumbnail": "",
        "numComments": p.num_comments,
        "submittedBy": user_json(s.submitter),
        "isAuthorParticipating": False,
    }
    if s.trending_score is not None:
        item["trendingScore"] = round(s.trending_score, 6)
    trending = s.trending  # set by queries.feed(sort="trending"): ranking.Trending
    if trending is not None:
        item["trending"] = trending.as_json()  # {score, ageHours, decay, signals: {upvotes, comments, githubStars}}
    return item
