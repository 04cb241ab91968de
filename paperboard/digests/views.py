"""Digest pages: subscribe (the form in every page's footer, and from account settings), confirm,
preferences, preview and one-click unsubscribe. Links from mails carry a signed token instead of a login;
a bad token gets a 404 page, never an error."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from paperboard.accounts.status import check_can_write, is_confirmed, writer_required
from paperboard.community.errors import Refused, refused_response
from paperboard.digests import content, links, message, subscriptions
from paperboard.digests.forms import PreferencesForm, SubscribeForm
from paperboard.digests.models import Subscription
from paperboard.ops import csp
from paperboard.ratelimit import limit

SETTINGS_ANCHOR = "/accounts/settings#digest"


def settings_section(request: HttpRequest, user) -> dict:
    """The email digest part of the account settings page (digests/_settings.html): `digest`."""
    subscription = subscriptions.of_account(user)
    return {"digest": {
        "subscription": subscription,
        "confirmed": is_confirmed(user),
        "preferences_path": links.preferences_path(subscription) if subscription else "",
        "preview_path": links.preview_path(subscription) if subscription else "",
    }}


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "digests/bad_link.html", status=404)


def _private(response: HttpResponse) -> HttpResponse:
    """Pages opened by a token: never cached on the way, never indexed."""
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _owner_refusal(request: HttpRequest, subscription: Subscription) -> HttpResponse | None:
    """Starting or changing the digests of an account that may not write (banned) is refused like any
    other write of that account; stopping them (unsubscribe) never is."""
    if subscription.user_id is None:
        return None
    try:
        check_can_write(subscription.user)
    except Refused as exc:
        return _private(refused_response(request, exc, request.get_full_path()))
    return None


@require_http_methods(["GET", "POST"])
@limit("digest-subscribe", by="ip")
def subscribe(request: HttpRequest) -> HttpResponse:
    """GET: the form (the footer's form lands here with the address filled in, since cached pages carry no
    CSRF token). POST: the same page answers for new, pending and existing addresses alike."""
    if request.method == "GET":
        form = SubscribeForm(initial={"email": request.GET.get("email", "")[:254]})
        return render(request, "digests/subscribe.html", {"form": form})
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "digests/subscribe.html", {"form": form}, status=400)
    subscriptions.request(form.cleaned_data["email"])
    return render(request, "digests/subscribe_sent.html")


@login_required
@require_POST
@writer_required
@limit("digest-subscribe", by="user")
def subscribe_account(request: HttpRequest) -> HttpResponse:
    if not is_confirmed(request.user) or not request.user.email:
        messages.error(request, "Confirm your email address first: digests go only to a confirmed address.")
        return redirect(SETTINGS_ANCHOR)
    subscription = subscriptions.for_account(request.user)
    if subscription.suppressed_at is not None:
        messages.error(request, "Mail to this address kept failing, so digests to it are stopped; ask an admin.")
    else:
        messages.success(request, f"Digests will go to {subscription.email}. Change what is in them below.")
    return redirect(SETTINGS_ANCHOR)


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: link checkers that open every link in a mail confirm nothing."""
    subscription = links.from_confirm_token(token)
    if subscription is None:
        return _bad_link(request)
    if request.method == "POST":
        refused = _owner_refusal(request, subscription)
        if refused is not None:
            return refused
        subscriptions.confirm(subscription)
        return _private(render(request, "digests/confirmed.html", {
            "subscription": subscription, "preferences_path": links.preferences_path(subscription),
        }))
    return _private(render(request, "digests/confirm.html", {"subscription": subscription}))


def _preferences_page(request, subscription: Subscription, form: PreferencesForm, status: int = 200):
    return _private(render(request, "digests/preferences.html", {
        "subscription": subscription,
        "form": form,
        "preview_path": links.preview_path(subscription),
        "unsubscribe_path": links.unsubscribe_path(subscription),
        "token_path": links.preferences_path(subscription),
    }, status=status))


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    subscription = links.from_manage_token(token)
    if subscription is None:
        return _bad_link(request)
    if request.method == "POST":
        refused = _owner_refusal(request, subscription)
        if refused is not None:
            return refused
        if request.POST.get("action") == "resubscribe":  # the link came to this mailbox: that is confirmation
            subscriptions.confirm(subscription)
            messages.success(request, "Welcome back: digests start again at the next send time.")
            return redirect(links.preferences_path(subscription))
        form = PreferencesForm.for_subscription(subscription, request.POST)
        if not form.is_valid():
            return _preferences_page(request, subscription, form, status=400)
        subscriptions.update(subscription, form.cleaned_data["frequency"], form.to_preferences(),
                             form.cleaned_data["paused"])
        messages.success(request, "Preferences saved.")
        return redirect(links.preferences_path(subscription))
    return _preferences_page(request, subscription, PreferencesForm.for_subscription(subscription))


@require_http_methods(["GET"])
def preview(request: HttpRequest, token: str) -> HttpResponse:
    """The next digest as it would be sent now with the current preferences (nothing is recorded)."""
    subscription = links.from_manage_token(token)
    if subscription is None:
        return _bad_link(request)
    digest = content.digest(content.choose(subscription, content.Candidates()), subscription.frequency)
    return _private(csp.email_rendition(HttpResponse(message.preview_html(subscription, digest))))


@csrf_exempt  # RFC 8058 one-click: the mail provider POSTs `List-Unsubscribe=One-Click`; the signed URL is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscription = links.from_manage_token(token)
    if subscription is None:
        return _bad_link(request)
    if request.method == "POST":
        subscriptions.unsubscribe(subscription)
        return _private(render(request, "digests/unsubscribed.html", {
            "subscription": subscription, "preferences_path": links.preferences_path(subscription),
        }))
    return _private(render(request, "digests/unsubscribe.html", {"subscription": subscription}))
