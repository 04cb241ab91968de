"""Admin: subscriptions (suppressed addresses filterable, suppression liftable), deliveries and sent papers
(read-only: they are the record of what went out)."""

from django.contrib import admin

from paperboard.digests import subscriptions
from paperboard.digests.models import Delivery, SentPaper, Subscription


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("period_key", "status", "attempts", "sent_at", "smtp_code", "last_error")
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = True
    max_num = 0


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("email", "user", "frequency", "confirmed_at", "paused", "next_due_at", "last_sent_at",
                    "failures", "suppressed_at", "unsubscribed_at")
    list_filter = (
        ("suppressed_at", admin.EmptyFieldListFilter),
        ("confirmed_at", admin.EmptyFieldListFilter),
        ("unsubscribed_at", admin.EmptyFieldListFilter),
        "paused",
        "frequency",
    )
    search_fields = ("email", "user__username")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "last_sent_at", "failures", "suppressed_at", "suppression_reason")
    inlines = [DeliveryInline]
    actions = ["lift_suppression", "unsubscribe"]
    show_full_result_count = False

    @admin.action(description="Lift the suppression (digests resume at the next send time)")
    def lift_suppression(self, request, queryset):
        rows = list(queryset.filter(suppressed_at__isnull=False))
        for subscription in rows:
            subscriptions.lift_suppression(subscription)
        self.message_user(request, f"{len(rows)} suppression(s) lifted.")

    @admin.action(description="Unsubscribe")
    def unsubscribe(self, request, queryset):
        n = sum(subscriptions.unsubscribe(s) for s in queryset)
        self.message_user(request, f"{n} address(es) unsubscribed.")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("subscription", "period_key", "status", "attempts", "created_at", "sent_at", "smtp_code",
                    "papers_count")
    list_filter = ("status", "smtp_code")
    search_fields = ("subscription__email", "=period_key")
    date_hierarchy = "created_at"
    raw_id_fields = ("subscription",)
    readonly_fields = ("subscription", "period_key", "created_at", "attempts", "lease_until", "handed_over_at",
                       "sent_at", "papers_count", "smtp_code", "last_error")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(SentPaper)
class SentPaperAdmin(admin.ModelAdmin):
    list_display = ("subscription", "paper", "section", "delivery")
    list_filter = ("section",)
    search_fields = ("subscription__email", "=paper__arxiv_id")
    raw_id_fields = ("subscription", "paper", "delivery")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
