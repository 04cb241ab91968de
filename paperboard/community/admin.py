"""Django admin for the community models. State changes that need counters kept exact or an audit row
(hiding comments, deciding claims, resolving flags) are admin actions that go through
`paperboard.community.moderation.act`, so they are logged like the moderation queue's buttons."""

from __future__ import annotations

from django.contrib import admin, messages

from paperboard.community import comments, moderation
from paperboard.community.models import (
    AuthorClaim,
    Collection,
    CollectionItem,
    Comment,
    Flag,
    ModerationAction,
)
from paperboard.errors import Refused


def _run(modeladmin, request, queryset, action: str) -> None:
    done = 0
    for row in queryset:
        try:
            moderation.act(request.user, action, row.pk, "via Django admin")
            done += 1
        except Refused as exc:
            modeladmin.message_user(request, f"{row}: {exc.message}", messages.WARNING)
    if done:
        modeladmin.message_user(request, f"{action.replace('_', ' ')}: {done} done", messages.SUCCESS)


def _logged(action: str, description: str):
    """A Django admin action that runs the moderation `action` on each selected row (so it is logged)."""

    @admin.action(description=description)
    def run(modeladmin, request, queryset):
        _run(modeladmin, request, queryset, action)

    return run


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("pk", "paper", "user", "created", "edited_at", "deleted_at", "hidden")
    list_filter = ("hidden",)
    search_fields = ("=paper__arxiv_id", "user__username", "body")
    raw_id_fields = ("paper", "user", "parent")
    readonly_fields = ("body_html", "created", "edited_at", "deleted_at", "hidden")
    actions = ["hide", "restore"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Moving a comment to another paper or thread would break counts and threads.
        return self.readonly_fields + (("paper", "parent", "user") if obj is not None else ())

    hide = _logged("hide_comment", "Hide selected comments (logged)")
    restore = _logged("restore_comment", "Restore selected comments (logged)")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.visible:
            comments._bump(obj.paper_id, +1)

    def delete_model(self, request, obj):
        comments.uncount_before_removal([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        comments.uncount_before_removal(list(queryset))
        super().delete_queryset(request, queryset)


@admin.register(AuthorClaim)
class AuthorClaimAdmin(admin.ModelAdmin):
    list_display = ("paper", "user", "author_name", "status", "created", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("=paper__arxiv_id", "user__username", "author_name")
    raw_id_fields = ("paper", "user", "decided_by")
    readonly_fields = ("status", "decided_by", "decided_at", "created")
    actions = ["approve", "reject"]

    approve = _logged("approve_claim", "Approve selected claims (logged)")
    reject = _logged("reject_claim", "Reject selected claims (logged)")


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    extra = 0
    raw_id_fields = ("paper",)


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "slug", "public", "created")
    list_filter = ("public",)
    search_fields = ("name", "user__username")
    raw_id_fields = ("user",)
    inlines = [CollectionItemInline]


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("pk", "target_kind", "target_id", "reporter", "status", "created", "resolved_by")
    list_filter = ("status", "target_kind")
    search_fields = ("reason", "reporter__username")
    raw_id_fields = ("reporter", "resolved_by")
    readonly_fields = ("status", "resolved_by", "resolved_at", "created")
    actions = ["resolve"]

    @admin.action(description="Resolve selected flags (logged)")
    def resolve(self, request, queryset):
        _run(self, request, queryset.filter(status=Flag.OPEN), "resolve_flag")


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    """The audit log: readable, never written or changed from here."""

    list_display = ("created", "moderator", "action", "target_kind", "target_id", "reason")
    list_filter = ("action", "target_kind")
    search_fields = ("moderator__username", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
