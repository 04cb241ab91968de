"""Models of the community app: discussion (comments), author claims, collections, flags and the
moderation audit log. Submissions and votes live in `paperboard.papers.models`.

Writes that change counters or what pages show go through the service modules (`comments`, `claims`,
`collections`, `moderation`), which keep `Paper.num_comments` exact and bump the data version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from paperboard.community import markdown
from paperboard.papers.models import Paper


class Comment(models.Model):
    """One comment on a paper; `parent` makes it a reply. Deleting keeps the row (shown as "[deleted]")."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="comments")
    # Account deletion keeps the thread: the comment stays, authorless.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    # Replies survive a (rare, admin-only) hard delete of their parent as top-level comments.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    body = models.TextField(help_text="Markdown source, as written")
    body_html = models.TextField(blank=True, default="", help_text="sanitised HTML, rendered on save")
    created = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="deleted by its author")
    hidden = models.BooleanField(default=False, help_text="hidden by a moderator")

    class Meta:
        ordering = ["created", "pk"]
        indexes = [models.Index(fields=["paper", "created"], name="comment_paper_time_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.paper_id}"

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def visible(self) -> bool:
        """Counted in `Paper.num_comments` and shown with its body."""
        return self.deleted_at is None and not self.hidden

    def save(self, *args, **kwargs):
        fields = kwargs.get("update_fields")
        if fields is None or "body" in fields or "deleted_at" in fields:
            self.body_html = "" if self.deleted_at else markdown.render(self.body)
            if fields is not None:
                kwargs["update_fields"] = {*fields, "body_html"}
        super().save(*args, **kwargs)


class AuthorClaim(models.Model):
    """A user saying "I am this author of this paper"; an admin approves or rejects it."""

    PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
    STATUSES = [(PENDING, "pending"), (APPROVED, "approved"), (REJECTED, "rejected")]

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="author_claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="author_claims")
    author_name = models.CharField(max_length=300, help_text="one of the paper's author names")
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # At most one live (pending or approved) claim per user and paper; rejected ones may be retried.
            models.UniqueConstraint(
                fields=["paper", "user"], condition=~Q(status="rejected"), name="one_live_claim_per_user"
            ),
            # An author name belongs to at most one approved account.
            models.UniqueConstraint(
                fields=["paper", "author_name"], condition=Q(status="approved"),
                name="one_approved_claim_per_name",
            ),
        ]
        indexes = [models.Index(fields=["status", "created"], name="claim_status_idx")]

    def __str__(self) -> str:
        return f"{self.user} as {self.author_name} on {self.paper_id} ({self.status})"


class Collection(models.Model):
    """A user's named list of papers ("bookmarks"). Private ones are seen by their owner only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=110, help_text="in the URL; unique per user, kept on rename")
    description = models.TextField(blank=True, default="", max_length=1000)
    public = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    papers = models.ManyToManyField(Paper, through="CollectionItem", related_name="+")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "slug"], name="collection_slug_per_user")]

    def __str__(self) -> str:
        return f"{self.user}/{self.slug}"

    def get_absolute_url(self) -> str:
        return f"/u/{self.user.username}/collections/{self.slug}"


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="collection_items")
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "paper"], name="collection_item_uniq")]

    def __str__(self) -> str:
        return f"{self.paper_id} in {self.collection_id}"


class Flag(models.Model):
    """A report by a user that a paper, a submission or a comment needs a moderator's look."""

    PAPER, SUBMISSION, COMMENT = "paper", "submission", "comment"
    KINDS = [(PAPER, "paper"), (SUBMISSION, "submission"), (COMMENT, "comment")]
    OPEN, RESOLVED = "open", "resolved"
    STATUSES = [(OPEN, "open"), (RESOLVED, "resolved")]

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags"
    )
    target_kind = models.CharField(max_length=12, choices=KINDS)
    target_id = models.BigIntegerField(help_text="pk of the paper, submission or comment")
    reason = models.TextField(max_length=1000)
    status = models.CharField(max_length=10, choices=STATUSES, default=OPEN)
    created = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "target_kind", "target_id"], condition=Q(status="open"),
                name="one_open_flag_per_reporter",
            )
        ]
        indexes = [
            models.Index(fields=["status", "created"], name="flag_status_idx"),
            models.Index(fields=["target_kind", "target_id"], name="flag_target_idx"),
        ]

    def __str__(self) -> str:
        return f"flag {self.pk}: {self.target_kind} {self.target_id} ({self.status})"


class ModerationAction(models.Model):
    """The audit log: one row per moderator action, never edited."""

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30)
    target_kind = models.CharField(max_length=12)
    target_id = models.BigIntegerField()
    reason = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["created"], name="modaction_time_idx")]

    def __str__(self) -> str:
        return f"{self.moderator} {self.action} {self.target_kind} {self.target_id}"
