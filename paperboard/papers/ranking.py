"""Ranking as pure functions with named constants. Golden tests in tests/test_ranking.py.

Trending (published in docs/ranking.md): a paper's upvotes decay with the age of its day on the feed,
the way Hacker News-style "gravity" ranking does (https://news.ycombinator.com/item?id=1781013):

    score = upvotes / (age_hours + AGE_OFFSET_HOURS) ** GRAVITY
"""

from __future__ import annotations

import datetime as dt

GRAVITY = 1.5  # how fast age wins over votes; 1.8 on Hacker News, lower because papers stay relevant longer
AGE_OFFSET_HOURS = 2.0  # keeps a brand-new paper from dividing by ~0
TRENDING_WINDOW_DAYS = 7  # only papers on the feed in the last week are candidates


def age_hours(submitted_at: dt.datetime, now: dt.datetime) -> float:
    """Hours between a submission and now, never negative."""
    return max(0.0, (now - submitted_at).total_seconds() / 3600.0)


def trending_score(upvotes: int, hours: float) -> float:
    """Trending score of a paper with `upvotes` votes whose feed day began `hours` ago."""
    return max(0, upvotes) / (hours + AGE_OFFSET_HOURS) ** GRAVITY
