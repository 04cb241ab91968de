"""Upvotes: one per account per paper, with `Paper.upvotes` kept exact under any concurrency.

Each change is one transaction: insert (or delete) the Vote row, and move the counter by one only when
a row really was inserted (or deleted). The unique constraint `one_vote_per_user` decides races: a
second insert for the same account fails inside a savepoint and changes nothing. The counter moves
with `UPDATE … SET upvotes = upvotes ± 1`, never by writing a number read earlier.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from paperboard.accounts.status import check_can_write
from paperboard.papers.models import Paper, Vote


def upvote(user, paper: Paper) -> bool:
    """Add `user`'s vote to `paper`. True when it was added, False when it was already there.

    Raises Refused for anonymous, inactive or banned accounts.
    """
    check_can_write(user)
    with transaction.atomic():
        try:
            with transaction.atomic():  # savepoint: a duplicate leaves the outer transaction usable
                Vote.objects.create(user=user, paper=paper)
        except IntegrityError:
            return False
        Paper.objects.filter(pk=paper.pk).update(upvotes=F("upvotes") + 1)
    return True


def unvote(user, paper: Paper) -> bool:
    """Take back `user`'s vote on `paper`. True when there was one to take back."""
    check_can_write(user)
    with transaction.atomic():
        deleted, _ = Vote.objects.filter(user=user, paper=paper).delete()
        if not deleted:
            return False
        Paper.objects.filter(pk=paper.pk, upvotes__gt=0).update(upvotes=F("upvotes") - 1)
    return True


def has_voted(user, paper: Paper) -> bool:
    return bool(
        user is not None and user.is_authenticated and Vote.objects.filter(user=user, paper=paper).exists()
    )


def voted_ids(user, paper_ids) -> set[int]:
    """The ids among `paper_ids` that `user` voted on: one query for a whole page of papers."""
    if user is None or not user.is_authenticated:
        return set()
    ids = [pk for pk in paper_ids if pk is not None]
    if not ids:
        return set()
    return set(Vote.objects.filter(user=user, paper_id__in=ids).values_list("paper_id", flat=True))


def current_upvotes(paper: Paper) -> int:
    """The paper's count as stored now (after a vote by this or another request)."""
    return Paper.objects.filter(pk=paper.pk).values_list("upvotes", flat=True).first() or 0
