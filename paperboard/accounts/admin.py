"""Admin: the profile (confirmation, ban, bio) inline on the user page; API tokens read-only, revocable."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone

from paperboard.accounts.models import ApiToken, Profile

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 0
    max_num = 1
    fields = ("email_confirmed_at", "banned_at", "ban_reason", "bio")


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    can_delete = False
    fields = ("name", "prefix", "created", "last_used_at", "revoked_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class PaperboardUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ProfileInline, ApiTokenInline]
    list_display = ("username", "email", "first_name", "is_staff", "is_active", "date_joined")


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, PaperboardUserAdmin)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "email_confirmed_at", "banned_at")
    list_filter = (
        ("email_confirmed_at", admin.EmptyFieldListFilter),
        ("banned_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners on the settings page; here they can only be looked at or revoked."""

    list_display = ("name", "user", "prefix", "created", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "digest", "created", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        n = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{n} token(s) revoked.")
