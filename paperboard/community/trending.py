"""Why a paper is trending: its trending breakdown (`ranking.trending`) in numbers and in words.

`explain(paper, now)` runs the same computation as the trending feed (`queries.feed(sort="trending")`)
for one paper: the same counted votes (`queries.trusted_vote_counts`), the same age, the same
constants. Its `rows` add up to its `score`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from paperboard.papers import queries, ranking
from paperboard.papers.models import Paper, Submission

LABELS = {"upvotes": "Upvotes", "comments": "Comments", "githubStars": "GitHub stars"}


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    amount: str  # how much of the signal, in words
    points: float
    contribution: float
    share: float  # percentage of the score (0 when the score is 0)


@dataclass
class Explanation:
    on_feed: bool
    candidate: bool = False  # on the feed within the trending window
    trending: ranking.Trending | None = None
    rows: list[Row] = field(default_factory=list)
    uncounted_votes: int = 0  # local votes that do not count toward trending
    sentence: str = ""

    @property
    def score(self) -> float:
        return self.trending.score if self.trending else 0.0


def _plural(n: float, word: str) -> str:
    return f"{n:g} {word}" + ("" if n == 1 else "s")


def _amount(signal: ranking.Signal) -> str:
    if signal.name == "upvotes":
        local, imported = signal.detail["local"], signal.detail["imported"]
        text = _plural(signal.amount, "counted upvote")
        if imported:
            text += f" ({local} here, {imported} imported)"
        return text
    if signal.name == "comments":
        text = _plural(signal.amount, "comment")
        if signal.detail["counted"] < signal.amount:
            text += f" (the first {signal.detail['counted']} count)"
        return text
    if not signal.detail["repoLinked"]:
        return "no repository linked"
    return _plural(signal.amount, "star")


def _sentence(t: ranking.Trending, rows: list[Row], candidate: bool) -> str:
    parts = [f"{r.label.lower()} {r.contribution:.3f}" for r in rows if r.contribution > 0]
    head = f"Trending score {t.score:.3f}"
    if parts:
        head += " = " + " + ".join(parts)
    age = (
        f"on the feed for {t.hours:.0f} hours, so its {t.points:g} points are divided by "
        f"({t.hours:.1f} + {ranking.AGE_OFFSET_HOURS:g}) ^ {ranking.GRAVITY:g} = {t.decay:.1f}"
    )
    if not rows or t.points == 0:
        text = f"{head}: nothing counts toward trending yet; it has been {age}."
    else:
        top = max(rows, key=lambda r: r.contribution)
        text = f"{head}. {top.label} give most of it ({top.share:.0f}%); it has been {age}."
    if not candidate:
        text += (
            f" It went on the feed more than {ranking.TRENDING_WINDOW_DAYS} days ago, "
            "so it is no longer ranked in trending."
        )
    return text


def explain(paper: Paper, now: dt.datetime | None = None) -> Explanation:
    """Each signal's contribution to `paper`'s trending score at `now`, and a sentence (3 queries at most)."""
    now = now or timezone.now()
    submission = getattr(paper, "feed_submission", None)
    if submission is None:
        submission = Submission.objects.filter(paper=paper).first()
    if submission is None:
        return Explanation(
            on_feed=False, sentence="This paper is not on the feed, so it is not ranked in trending."
        )
    counted = queries.trusted_vote_counts([paper.pk]).get(paper.pk, 0)
    t = queries.trending_of(paper, submission, counted, now)
    score = t.score
    rows = [
        Row(
            name=s.name,
            label=LABELS[s.name],
            amount=_amount(s),
            points=s.points,
            contribution=s.contribution,
            share=100.0 * s.contribution / score if score else 0.0,
        )
        for s in t.signals
    ]
    candidate = submission.submitted_at >= queries.trending_cutoff(now)
    local_votes = max(0, paper.upvotes - paper.imported_upvotes)
    return Explanation(
        on_feed=True,
        candidate=candidate,
        trending=t,
        rows=rows,
        uncounted_votes=max(0, local_votes - counted),
        sentence=_sentence(t, rows, candidate),
    )
