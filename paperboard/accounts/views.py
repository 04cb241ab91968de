"""Account pages: sign-up and confirmation, log in/out, password reset and change, settings with API
tokens, account deletion, and public profiles (`/u/<username>`, also as JSON)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import rotate_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from paperboard.accounts import confirmation, forms, sections
from paperboard.accounts.deletion import delete_user
from paperboard.accounts.models import ApiToken, profile_of
from paperboard.accounts.status import writer_required
from paperboard.papers import queries, shapes
from paperboard.papers.models import Submission, Vote
from paperboard.ratelimit import limit

logger = logging.getLogger("paperboard.accounts")
User = get_user_model()

LOGIN_ERROR = "Wrong username/email or password."
PROFILE_LIST_LIMIT = 50


def _safe_next(request: HttpRequest, default: str | None = None) -> str:
    """The `next` parameter when it points into this site, else `default` (LOGIN_REDIRECT_URL)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default or settings.LOGIN_REDIRECT_URL


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


# ---------------------------------------------------------------- sign-up and confirmation


@require_http_methods(["GET", "POST"])
@limit("signup", by="ip")
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = forms.SignupForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        existing = form.existing_user()
        if existing is not None:
            # Same page, same cookies, similar time as a real sign-up: whether an address is registered
            # is told only to the mailbox that owns it.
            make_password(form.cleaned_data["password"])
            request.session.cycle_key()
            rotate_token(request)
            request.session["signup_sent"] = True
            confirmation.send_signup_exists(existing)
        else:
            with transaction.atomic():
                user = User.objects.create_user(
                    form.cleaned_data["username"], form.cleaned_data["email"], form.cleaned_data["password"]
                )
                profile_of(user)
            # Not logged in yet: the confirmation link logs in, in this browser only. Logging in here would
            # show, on the next page, whether this address was new. (The session is stored server-side:
            # the cookie looks the same as for a known address.)
            request.session.cycle_key()
            rotate_token(request)
            request.session["signup_sent"] = True
            request.session[confirmation.SIGNUP_SESSION_KEY] = user.pk
            confirmation.send_confirmation(user)
        # Rendered as the public sees it, so both answers are the same page.
        return render(request, "accounts/signup_sent.html", {"user": AnonymousUser()})
    return render(request, "accounts/signup.html", {"form": form})


CONFIRMED_ELSEWHERE = "Your address is confirmed. Log in to continue."


def _signed_up_here(request: HttpRequest, user) -> bool:
    """This browser is the one that signed `user` up (and has not used its link yet)."""
    return request.session.get(confirmation.SIGNUP_SESSION_KEY) == user.pk


def _may_log_in(user) -> bool:
    return user.is_active and not profile_of(user).banned


def _log_in_from_signup(request: HttpRequest, user) -> None:
    request.session.pop(confirmation.SIGNUP_SESSION_KEY, None)
    if _may_log_in(user):
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")


@require_GET
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm the address. The link logs in only the browser that signed up; elsewhere the reader is sent
    to the log-in page. A used link confirms nothing more and logs nobody in, except in that browser when
    something else (a mail scanner opening every link) used it first."""
    found = confirmation.check_token(token)
    if found is None:
        return render(request, "accounts/confirm_result.html", {"ok": False}, status=400)
    state, user = found
    here = _signed_up_here(request, user)
    if state == confirmation.USED or not confirmation.mark_confirmed(user):
        if here:
            _log_in_from_signup(request, user)
            return render(request, "accounts/confirm_result.html", {"ok": True, "confirmed_user": user})
        return render(request, "accounts/confirm_result.html", {"ok": False, "used": True}, status=400)
    if here:
        _log_in_from_signup(request, user)
    elif request.user.pk != user.pk:
        messages.success(request, CONFIRMED_ELSEWHERE)
        return redirect(settings.LOGIN_URL)
    return render(request, "accounts/confirm_result.html", {"ok": True, "confirmed_user": user})


@login_required
@require_http_methods(["GET", "POST"])
@writer_required
@limit("signup", by="user")  # re-sending counts against the sign-up limit, per account
def confirm_resend(request: HttpRequest) -> HttpResponse:
    profile = profile_of(request.user)
    if request.method == "POST":
        if profile.confirmed:
            messages.info(request, "Your address is already confirmed.")
        elif not request.user.email:
            messages.error(request, "Your account has no email address; ask an admin to add one.")
        elif confirmation.send_confirmation(request.user):
            messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
        else:
            messages.error(request, "The mail could not be sent just now; please try again later.")
        return redirect("confirm-resend")
    return render(request, "accounts/confirm_resend.html", {"profile": profile})


# ---------------------------------------------------------------- log in and out


def _find_user(login_value: str):
    """The account a login name means: a username first, then an email address (case-insensitive)."""
    user = User.objects.filter(username=login_value).first()
    if user is None:
        user = User.objects.filter(username__iexact=login_value).order_by("pk").first()
    if user is None and "@" in login_value:
        user = User.objects.filter(email__iexact=login_value).order_by("pk").first()
    return user


@require_http_methods(["GET", "POST"])
@limit("login", by="ip")
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    if next_url.startswith(settings.LOGIN_URL):
        next_url = settings.LOGIN_REDIRECT_URL
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_url)
    form = forms.LoginForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        found = _find_user(form.cleaned_data["login"].strip())
        # Unknown names still go through authenticate(), which hashes anyway: same time, same message.
        username = found.get_username() if found is not None else form.cleaned_data["login"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            form.add_error(None, LOGIN_ERROR)
        elif profile_of(user).banned:
            form.add_error(None, "This account is banned.")
        else:
            login(request, user)
            return redirect(next_url)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(_safe_next(request, settings.LOGOUT_REDIRECT_URL))


# ---------------------------------------------------------------- password reset and change (Django's views)

@method_decorator(limit("password-reset", by="ip"), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = forms.ResetRequestForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    form_class=forms.ResetSetPasswordForm,
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)
password_change = auth_views.PasswordChangeView.as_view(
    form_class=forms.ChangePasswordForm,
    template_name="accounts/password_change.html",
    success_url=reverse_lazy("settings"),
)


# ---------------------------------------------------------------- settings and API tokens


def _settings_page(request, profile_form=None, token_form=None, status=200) -> HttpResponse:
    user = request.user
    profile = profile_of(user)
    if profile_form is None:
        profile_form = forms.ProfileForm(initial={"full_name": user.get_full_name(), "bio": profile.bio})
    tokens = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created"))
    return render(
        request,
        "accounts/settings.html",
        {
            "profile": profile,
            "profile_form": profile_form,
            "token_form": token_form or forms.TokenCreateForm(user=user),
            "tokens": tokens,
            **sections.context(sections.SETTINGS, request, user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
@writer_required
def settings_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = forms.ProfileForm(request.POST)
        if not form.is_valid():
            return _settings_page(request, profile_form=form, status=400)
        user = request.user
        user.first_name, user.last_name = form.cleaned_data["full_name"].strip(), ""
        user.save(update_fields=["first_name", "last_name"])
        profile = profile_of(user)
        profile.bio = form.cleaned_data["bio"].strip()
        profile.save(update_fields=["bio"])
        messages.success(request, "Profile saved.")
        return redirect("settings")
    return _settings_page(request)


@login_required
@require_POST
@writer_required
def token_create(request: HttpRequest) -> HttpResponse:
    form = forms.TokenCreateForm(request.POST, user=request.user)
    if not form.is_valid():
        return _settings_page(request, token_form=form, status=400)
    row, token = ApiToken.issue(request.user, form.cleaned_data["name"])
    # Shown in this answer only: the plain token is stored nowhere.
    response = render(request, "accounts/token_created.html", {"row": row, "token": token}, status=201)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST  # open to banned accounts too: revoking only takes power away
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        messages.success(request, f"Token “{row.name}” revoked.")
    return redirect("settings")


# ---------------------------------------------------------------- account deletion


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    form = forms.DeleteAccountForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        username = user.username
        logout(request)
        delete_user(user)
        logger.info("account %s deleted by its owner", username)
        messages.success(request, "Your account was deleted. Goodbye!")
        return redirect(settings.LOGOUT_REDIRECT_URL)
    return render(request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200)


# ---------------------------------------------------------------- public profiles


def _profile_data(user, viewer=None):
    """The user's latest submissions (cards' feed submissions) and upvoted papers (cards), newest first;
    the cards' `voted` is `viewer`'s."""
    submitted_ids = list(
        Submission.objects.filter(submitter=user, paper__hidden=False)
        .order_by("-submitted_at", "-pk")
        .values_list("paper_id", flat=True)[:PROFILE_LIST_LIMIT]
    )
    votes = list(
        Vote.objects.filter(user=user, paper__hidden=False)
        .order_by("-created", "-pk")
        .values_list("paper_id", "created")[:PROFILE_LIST_LIMIT]
    )
    cards = {c.pk: c for c in queries.load_cards(submitted_ids + [pid for pid, _ in votes], user=viewer)}
    submitted = [cards[pid].feed_submission for pid in submitted_ids if pid in cards]
    upvoted = []
    for pid, voted_at in votes:  # the card template reads s.paper and s.submitter
        if pid in cards:
            submission = cards[pid].feed_submission
            upvoted.append({"paper": cards[pid], "submission": submission, "voted_at": voted_at,
                            "submitter": submission.submitter if submission else None})
    return submitted, upvoted


def _user_json(user, profile) -> dict:
    return {
        **shapes.user_json(user),
        "bio": profile.bio,
        "joinedAt": shapes.iso(user.date_joined),
        "url": f"{settings.BASE_URL}/u/{user.username}",
    }


@require_GET
def profile_page(request: HttpRequest, username: str, fmt: str | None = None) -> HttpResponse:
    user = User.objects.filter(username=username, is_active=True).first()
    wants_json = fmt == ".json" or request.GET.get("format") == "json"
    if user is None:
        if wants_json:
            return JsonResponse({"error": f"user {username} not found", "code": "not_found"}, status=404)
        raise Http404(f"user {username} not found")
    profile = profile_of(user)
    submitted, upvoted = _profile_data(user, request.user)
    if wants_json:
        return JsonResponse(
            {
                "user": _user_json(user, profile),
                "submitted": [shapes.daily_item_json(s) for s in submitted],
                "upvoted": [
                    {
                        "paper": shapes.paper_json(i["paper"], i["submission"]),
                        "votedAt": shapes.iso(i["voted_at"]),
                    }
                    for i in upvoted
                ],
                "limit": PROFILE_LIST_LIMIT,
            }
        )
    return render(
        request,
        "accounts/profile.html",
        {
            "profile_user": user,
            "profile": profile,
            "submitted": submitted,
            "upvoted": upvoted,
            "limit": PROFILE_LIST_LIMIT,
            "canonical": f"/u/{user.username}",
            "json_url": f"/u/{user.username}.json",
            **sections.context(sections.PROFILE, request, user),
        },
    )
