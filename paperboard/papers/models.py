"""Papers, their ordered authors and categories, their days on the feed (submissions) and votes.

Bulk writes go through `paperboard.ingest.store`, which uses these tables' names directly for speed;
keep the two in step.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from paperboard.papers.links import ArxivLinks


class Paper(ArxivLinks, models.Model):
    arxiv_id = models.CharField(max_length=40, unique=True, help_text="arXiv id without version suffix")
    version = models.PositiveSmallIntegerField(default=1, help_text="latest arXiv version seen")
    title = models.TextField()
    abstract = models.TextField(blank=True, default="")
    primary_category = models.CharField(max_length=40, blank=True, default="", db_index=True)
    published_at = models.DateTimeField(null=True, blank=True, help_text="first submitted to arXiv (v1)")
    updated_at = models.DateTimeField(null=True, blank=True, help_text="latest version's date on arXiv")
    comment = models.TextField(blank=True, default="")
    journal_ref = models.TextField(blank=True, default="")
    doi = models.CharField(max_length=200, blank=True, default="")
    github_repo = models.URLField(max_length=500, blank=True, default="")
    project_page = models.URLField(max_length=500, blank=True, default="")
    github_stars = models.PositiveIntegerField(null=True, blank=True)
    # Denormalised counters, kept exact by the writes that change them (see house style: state in columns).
    upvotes = models.PositiveIntegerField(default=0, help_text="imported_upvotes + local votes")
    imported_upvotes = models.PositiveIntegerField(default=0, help_text="upvotes carried over from an import")
    num_comments = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=32, blank=True, default="", help_text="hash of the metadata")
    hidden = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["published_at"], name="paper_published_idx")]

    def __str__(self) -> str:
        return f"{self.arxiv_id}: {self.title[:60]}"


class PaperAuthor(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="authors")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=300)

    class Meta:
        ordering = ["paper", "position"]
        constraints = [models.UniqueConstraint(fields=["paper", "position"], name="author_position_uniq")]
        indexes = [models.Index(fields=["name"], name="author_name_idx")]

    def __str__(self) -> str:
        return self.name


class PaperCategory(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="categories")
    position = models.PositiveSmallIntegerField(help_text="0 is the primary category")
    code = models.CharField(max_length=40)

    class Meta:
        ordering = ["paper", "position"]
        constraints = [models.UniqueConstraint(fields=["paper", "position"], name="category_position_uniq")]
        indexes = [models.Index(fields=["code", "paper"], name="category_code_idx")]

    def __str__(self) -> str:
        return self.code


class Submission(models.Model):
    """A paper on one day's feed. A paper is on the feed at most once."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, related_name="submission")
    day = models.DateField(help_text="the feed day it appears on")
    submitted_at = models.DateTimeField()
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions"
    )
    note = models.TextField(blank=True, default="")
    source = models.CharField(max_length=20, default="local", help_text="local, hf (imported) or demo")

    class Meta:
        indexes = [
            models.Index(fields=["day"], name="submission_day_idx"),
            models.Index(fields=["submitter", "day"], name="submission_submitter_idx"),
            models.Index(fields=["submitted_at"], name="submission_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.paper.arxiv_id} on {self.day}"


class Vote(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "paper"], name="one_vote_per_user")]
        indexes = [models.Index(fields=["paper", "created"], name="vote_paper_time_idx")]


class Counter(models.Model):
    """Named counters; `data_version` is bumped by every write that changes what a feed shows (cache key)."""

    key = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)


class RateCounter(models.Model):
    """Hits of one rate-limited action by one client in one fixed window (see paperboard.ratelimit)."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="rate_window_uniq")]
