"""Account forms. Every form shows field errors; none raises on bad input."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError

from paperboard.accounts import confirmation
from paperboard.accounts.models import ApiToken
from paperboard.mail import messages as mail

User = get_user_model()

# Used when settings.AUTH_PASSWORD_VALIDATORS is empty (Django's default): Django's own four validators.
DEFAULT_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,29}$")
MAX_ACTIVE_TOKENS = 25


def password_validators():
    return password_validation.get_password_validators(
        settings.AUTH_PASSWORD_VALIDATORS or DEFAULT_PASSWORD_VALIDATORS
    )


def password_help() -> str:
    return " ".join(password_validation.password_validators_help_texts(password_validators()))


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=30,
        help_text="2–30 letters, digits, - or _. It is public: your profile is at /u/<username>.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(
        max_length=254,
        help_text="We send a confirmation link here. Never shown to others.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = password_help()

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if not USERNAME_RE.match(username):
            raise ValidationError("Use 2–30 letters, digits, - or _, starting with a letter or digit.")
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("This username is taken.")
        return username

    def clean_email(self) -> str:
        return BaseUserManager.normalize_email(self.cleaned_data["email"].strip())

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            candidate = User(username=data.get("username", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(password, candidate, password_validators())
            except ValidationError as exc:
                self.add_error("password", exc)
        return data

    def existing_user(self):
        """The account that already has this address (compared case-insensitively), if any."""
        return User.objects.filter(email__iexact=self.cleaned_data["email"]).order_by("pk").first()


class LoginForm(forms.Form):
    login = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    bio = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Up to 2000 characters, shown on your profile page as plain text.",
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What the token is for, e.g. “laptop script”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the token a name.")
        return name

    def clean(self):
        data = super().clean()
        active = ApiToken.objects.filter(user=self.user, revoked_at__isnull=True).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise ValidationError(f"You have {active} active tokens; revoke one before creating another.")
        return data


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("That is not your password.")
        return password


class ResetRequestForm(PasswordResetForm):
    """Django's reset form, sending our own multipart mail with absolute links from settings.BASE_URL."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        path = f"/accounts/password-reset/{context['uid']}/{context['token']}"
        mail.send("accounts/email/password_reset", to_email, {"user": context["user"], "reset_path": path})


class _ValidatedPasswordMixin:
    def validate_password_for_user(self, user, password_field_name="password2"):
        password = self.cleaned_data.get(password_field_name)
        if password:
            try:
                password_validation.validate_password(password, user, password_validators())
            except ValidationError as error:
                self.add_error(password_field_name, error)


class ResetSetPasswordForm(_ValidatedPasswordMixin, SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_help()

    def save(self, commit=True):
        user = super().save(commit)
        # The reset link came by mail to this address (Django's token covers the address): it is confirmed.
        if commit:
            confirmation.mark_confirmed(user)
        return user


class ChangePasswordForm(_ValidatedPasswordMixin, PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_help()
