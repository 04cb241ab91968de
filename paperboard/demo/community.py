"""A deterministic demo community: users, submissions spread over the last 30 days and long-tailed votes.

Same `today` and seed give the same community. Runs once per database (it checks for demo submissions).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count

from paperboard.accounts.models import Profile
from paperboard.papers import freshness
from paperboard.papers.models import Paper, Submission, Vote

SEED = 20240501
USERS = 200
DAYS = 30
WEEKDAY_PAPERS = (18, 40)  # papers put on the feed on a weekday: uniform in this range
WEEKEND_PAPERS = (3, 9)
VOTE_SHAPE = 1.25  # Pareto shape: most papers get a handful of votes, a few get a hundred or more
SEED_PAPER_BOOST = 3.0  # the seed page's papers were trending ones: scale their votes up

FIRST = ["Ada", "Ben", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena", "Mateo",
         "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vera", "Wen", "Ximena", "Yuki", "Zoe"]
LAST = ["Abe", "Baker", "Costa", "Diaz", "Eriksen", "Fujita", "Garcia", "Haddad", "Ito", "Jensen", "Kim", "Lopez",
        "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Singh", "Tanaka", "Usman", "Varga", "Wang"]


@dataclass
class DemoStats:
    users: int
    submissions: int
    votes: int


def _users(rng: random.Random, today: dt.date) -> list:
    User = get_user_model()
    joined = dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC) - dt.timedelta(days=DAYS + 60)
    names = []
    for i in range(USERS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        names.append((f"{first.lower()}{last.lower()}{i}", first, last))
    existing = set(User.objects.filter(username__in=[n for n, _, _ in names]).values_list("username", flat=True))
    new = []
    for username, first, last in names:
        if username not in existing:
            u = User(username=username, first_name=first, last_name=last, email=f"{username}@demo.invalid",
                     date_joined=joined)
            u.set_unusable_password()
            new.append(u)
    User.objects.bulk_create(new)
    by_name = {u.username: u for u in User.objects.filter(username__in=[n for n, _, _ in names])}
    # Demo members are long-standing, confirmed accounts, so their votes count toward trending.
    have_profile = set(Profile.objects.filter(user__in=by_name.values()).values_list("user_id", flat=True))
    Profile.objects.bulk_create(
        [Profile(user=by_name[n], email_confirmed_at=joined) for n, _, _ in names if by_name[n].pk not in have_profile]
    )
    return [by_name[n] for n, _, _ in names]


def seed_community(today: dt.date, seed: int = SEED, seed_ids: frozenset[str] = frozenset()) -> DemoStats | None:
    """Create the demo community unless one exists. Returns what it created, or None if it already existed."""
    if Submission.objects.filter(source="demo").exists():
        return None
    rng = random.Random(seed)
    with transaction.atomic():
        users = _users(rng, today)
        # Submitters follow a long tail too: a few people submit most papers (like AK on the Hub).
        submit_weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(users))]
        pool = list(
            Paper.objects.filter(submission__isnull=True).order_by("-published_at", "arxiv_id").values_list("pk", "arxiv_id")
        )
        seed_pool = [p for p in pool if p[1] in seed_ids]
        rest = [p for p in pool if p[1] not in seed_ids]
        rng.shuffle(seed_pool)
        submissions, votes = [], []
        for offset in range(DAYS - 1, -1, -1):
            day = today - dt.timedelta(days=offset)
            low, high = WEEKEND_PAPERS if day.weekday() >= 5 else WEEKDAY_PAPERS
            count = rng.randint(low, high)
            for _ in range(count):
                if not rest and not seed_pool:
                    break
                use_seed = seed_pool and (not rest or rng.random() < 0.12)
                pk, arxiv_id = (seed_pool if use_seed else rest).pop(0)
                submitter = rng.choices(users, weights=submit_weights)[0]
                at = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(
                    minutes=rng.randint(5 * 60, 20 * 60)
                )
                submissions.append(Submission(paper_id=pk, day=day, submitted_at=at, submitter=submitter, source="demo"))
                n_votes = int(rng.paretovariate(VOTE_SHAPE)) - 1
                if arxiv_id in seed_ids:
                    n_votes = int((n_votes + 5) * SEED_PAPER_BOOST)
                voters = rng.sample(users, min(len(users), n_votes))
                for v in voters:
                    votes.append(Vote(user=v, paper_id=pk))
        Submission.objects.bulk_create(submissions, batch_size=500)
        Vote.objects.bulk_create(votes, batch_size=1000)
        voted = {pk: n for pk, n in Vote.objects.values("paper_id").annotate(n=Count("id")).values_list("paper_id", "n")}
        papers = list(Paper.objects.filter(pk__in=voted))
        for p in papers:
            p.upvotes = p.imported_upvotes + voted[p.pk]
        Paper.objects.bulk_update(papers, ["upvotes"], batch_size=500)
    freshness.changed()  # bulk_create and bulk_update send no model signals
    return DemoStats(users=len(users), submissions=len(submissions), votes=len(votes))
