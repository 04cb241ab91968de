"""Ranking as pure functions with named constants. Golden tests in tests/test_ranking.py.

Trending (published, with examples, in docs/ranking.md): a paper earns *points* from three signals, and
the points decay with the time since the paper went on the feed, the way Hacker News-style "gravity"
ranking does (https://news.ycombinator.com/item?id=1781013):

    points = VOTE_POINTS    * counted_upvotes
           + COMMENT_POINTS * min(num_comments, COMMENT_CAP)
           + STAR_POINTS    * log10(1 + github_stars)        (only when a GitHub repository is linked)
    score  = points / (age_hours + AGE_OFFSET_HOURS) ** GRAVITY

Dividing by a power of the age makes the vote term an upvote *velocity* (points per hour on the feed)
that fades as the paper ages. Each signal's contribution is its points over the same divisor, so the
contributions add up to the score exactly: that is what the paper page and the API show.

`counted_upvotes` is not `Paper.upvotes`: only local votes from accounts whose email is confirmed and
that were at least PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS old when they voted count, plus the
upvotes imported from Hugging Face (`Paper.imported_upvotes`). See `queries.trusted_vote_counts`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

# --- Age decay -------------------------------------------------------------------------------------------
GRAVITY = 1.5  # exponent of the age divisor (dimensionless). 1.8 on Hacker News; lower because a paper stays
#                worth reading for days, not hours.
AGE_OFFSET_HOURS = 2.0  # hours added to the age, so a paper that went on the feed a minute ago does not
#                         divide by ~0 and leap to the top on its first vote.
TRENDING_WINDOW_DAYS = 7  # days: only papers put on the feed this recently are trending candidates.

# --- Signals (the unit is the "point"; one counted upvote is one point) -------------------------------
VOTE_POINTS = 1.0  # points per counted upvote: the unit everything else is measured in.
COMMENT_POINTS = 0.5  # points per comment: discussion shows interest, but one person can post many
#                       comments while they can upvote only once, so a comment is worth half a vote.
COMMENT_CAP = 20  # comments beyond the 20th add nothing (at most 10 points): a long argument is not
#                   more worth reading than a lively thread.
STAR_POINTS = 2.0  # points per factor of ten in GitHub stars (log-damped): 9 stars = 2 points,
#                    99 = 4, 999 = 6. Stars pile up over a repository's whole life, often before the
#                    paper, so they count only logarithmically and only when a repository is linked.

SIGNAL_NAMES = ("upvotes", "comments", "githubStars")


def age_hours(submitted_at: dt.datetime, now: dt.datetime) -> float:
    """Hours between a submission and now, never negative."""
    return max(0.0, (now - submitted_at).total_seconds() / 3600.0)


def decay(hours: float) -> float:
    """The divisor for a paper on the feed for `hours`: (hours + AGE_OFFSET_HOURS) ** GRAVITY."""
    return (max(0.0, hours) + AGE_OFFSET_HOURS) ** GRAVITY


def vote_points(counted_upvotes: int) -> float:
    return VOTE_POINTS * max(0, counted_upvotes)


def comment_points(num_comments: int) -> float:
    return COMMENT_POINTS * min(max(0, num_comments), COMMENT_CAP)


def star_points(github_stars: int | None, has_repo: bool) -> float:
    if not has_repo or not github_stars or github_stars < 0:
        return 0.0
    return STAR_POINTS * math.log10(1 + github_stars)


@dataclass(frozen=True)
class Signal:
    """One signal of the trending score: how much of it there is, its points, its part of the score."""

    name: str  # one of SIGNAL_NAMES
    amount: float  # counted upvotes, comments, or GitHub stars
    points: float  # before the age decay
    contribution: float  # points / decay: this signal's part of the score
    detail: dict = field(default_factory=dict)  # extra numbers for explanations (e.g. local/imported votes)

    def as_json(self) -> dict:
        return {
            "amount": self.amount,
            "points": round(self.points, 6),
            "contribution": round(self.contribution, 6),
            **self.detail,
        }


@dataclass(frozen=True)
class Trending:
    """A paper's trending score, broken down by signal. `score` is exactly the sum of the contributions."""

    hours: float
    decay: float
    signals: tuple[Signal, ...]

    @property
    def points(self) -> float:
        return sum(s.points for s in self.signals)

    @property
    def score(self) -> float:
        return sum(s.contribution for s in self.signals)

    def signal(self, name: str) -> Signal:
        return next(s for s in self.signals if s.name == name)

    def as_json(self) -> dict:
        return {
            "score": round(self.score, 6),
            "ageHours": round(self.hours, 3),
            "decay": round(self.decay, 6),
            "signals": {s.name: s.as_json() for s in self.signals},
        }


def trending(
    local_upvotes: int,
    hours: float,
    *,
    imported_upvotes: int = 0,
    num_comments: int = 0,
    github_stars: int | None = None,
    has_repo: bool = False,
) -> Trending:
    """The trending breakdown of a paper on the feed for `hours`.

    `local_upvotes` are the counted (trusted) local votes; `imported_upvotes` come from an import and are
    trusted as they are. Stars count only when `has_repo` (a GitHub repository is linked).
    """
    d = decay(hours)
    local, imported = max(0, local_upvotes), max(0, imported_upvotes)
    votes = vote_points(local + imported)
    comments = comment_points(num_comments)
    stars = star_points(github_stars, has_repo)
    return Trending(
        hours=max(0.0, hours),
        decay=d,
        signals=(
            Signal("upvotes", local + imported, votes, votes / d, {"local": local, "imported": imported}),
            Signal(
                "comments",
                max(0, num_comments),
                comments,
                comments / d,
                {"counted": min(max(0, num_comments), COMMENT_CAP)},
            ),
            Signal(
                "githubStars",
                (github_stars or 0) if has_repo else 0,
                stars,
                stars / d,
                {"repoLinked": has_repo},
            ),
        ),
    )


def trending_score(
    upvotes: int,
    hours: float,
    *,
    num_comments: int = 0,
    github_stars: int | None = None,
    has_repo: bool = False,
) -> float:
    """Trending score of a paper with `upvotes` counted votes whose feed day began `hours` ago."""
    return trending(
        upvotes, hours, num_comments=num_comments, github_stars=github_stars, has_repo=has_repo
    ).score


def formula_constants() -> dict:
    """The constants, by name, for pages and the API that publish the formula."""
    return {
        "GRAVITY": GRAVITY,
        "AGE_OFFSET_HOURS": AGE_OFFSET_HOURS,
        "TRENDING_WINDOW_DAYS": TRENDING_WINDOW_DAYS,
        "VOTE_POINTS": VOTE_POINTS,
        "COMMENT_POINTS": COMMENT_POINTS,
        "COMMENT_CAP": COMMENT_CAP,
        "STAR_POINTS": STAR_POINTS,
    }
