"""Account state beside Django's User: email confirmation, bans, API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "pb_"


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    banned_at = models.DateTimeField(null=True, blank=True)
    ban_reason = models.TextField(blank=True, default="")
    bio = models.TextField(blank=True, default="", max_length=2000)

    def __str__(self) -> str:
        return f"profile of {self.user}"

    @property
    def confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def banned(self) -> bool:
        return self.banned_at is not None


def profile_of(user) -> Profile:
    """The user's profile, created on first use (imported and demo users have none yet)."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        profile, _ = Profile.objects.get_or_create(user=user)
        return profile


class ApiToken(models.Model):
    """A bearer token for the write API. Only a SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="first characters, to recognise a token in lists")
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str) -> tuple[ApiToken, str]:
        """Create a token; return the row and the plain token (never stored, shown to the user once)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(user=user, name=name[:100], prefix=token[:10], digest=cls.hash(token))
        return row, token

    @classmethod
    def user_for(cls, token: str):
        """The active user owning an unrevoked `token`, or None. Records the time of use.

        Bans are checked where writes are (`accounts.status.check_can_write`), so a banned user's
        token authenticates but every write answers 403 "banned"."""
        row = (
            cls.objects.select_related("user")
            .filter(digest=cls.hash(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        cls.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        return row.user
