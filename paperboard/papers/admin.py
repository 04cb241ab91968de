from django.contrib import admin

from paperboard.papers.models import Paper, PaperAuthor, PaperCategory, Submission, Vote


class AuthorInline(admin.TabularInline):
    model = PaperAuthor
    extra = 0


class CategoryInline(admin.TabularInline):
    model = PaperCategory
    extra = 0


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ("arxiv_id", "title", "primary_category", "published_at", "upvotes", "hidden")
    list_filter = ("hidden",)
    search_fields = ("=arxiv_id", "title")
    readonly_fields = ("content_hash", "created", "modified")
    inlines = [AuthorInline, CategoryInline]
    show_full_result_count = False  # COUNT(*) over hundreds of thousands of rows on every page is slow


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("paper", "day", "submitter", "submitted_at", "source")
    list_filter = ("source",)
    date_hierarchy = "day"
    raw_id_fields = ("paper", "submitter")
    search_fields = ("=paper__arxiv_id", "submitter__username")


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("paper", "user", "created")
    raw_id_fields = ("paper", "user")
