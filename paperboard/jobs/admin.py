"""Admin: the runs of the scheduled jobs (read-only: they are the record of what ran, where and how it ended)."""

from django.contrib import admin

from paperboard.jobs.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "due_at", "status", "attempts", "worker", "started_at", "finished_at")
    list_filter = ("job", "status")
    readonly_fields = [f.name for f in JobRun._meta.fields]
    date_hierarchy = "due_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
