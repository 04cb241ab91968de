"""Deleting an account without leaving wrong vote counts behind."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from paperboard.papers import freshness
from paperboard.papers.models import Paper, Vote


def delete_user(user) -> None:
    """Delete `user` (the pre_delete receiver below fixes the vote counts first)."""
    with transaction.atomic():
        user.delete()


def take_votes_out(sender, instance, **kwargs) -> None:
    """pre_delete receiver for users: take their votes out of `Paper.upvotes`, whoever deletes them
    (the delete-account page, the admin, a script)."""
    user = instance
    with transaction.atomic():
        voted = Vote.objects.filter(user=user).values("paper_id")  # a subquery: no list of ids in Python
        if voted.exists():
            others = (
                Vote.objects.filter(paper=OuterRef("pk"))
                .exclude(user=user)
                .order_by()
                .values("paper")
                .annotate(n=Count("pk"))
                .values("n")
            )
            Paper.objects.filter(pk__in=Subquery(voted)).update(
                upvotes=F("imported_upvotes") + Coalesce(Subquery(others), Value(0))
            )
            freshness.changed()  # a QuerySet.update(): no model signal
