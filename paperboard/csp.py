"""Content-Security-Policy on every response, so a slip in a sanitiser cannot run script or restyle a page.

The site's own pages run only the scripts and stylesheets it serves from its own origin: no inline
`<script>`, no `on…=` handlers, no `style=` attributes or `<style>` blocks (tests/test_csp.py greps the
templates for them), and htmx is told neither to inject its indicator styles nor to evaluate anything
(the htmx-config in base.html).

A view that serves something other than a site page (a mail's HTML shown as it would arrive) sets its own
policy with `email_rendition`; the middleware leaves a policy a view set alone. Django's admin works under
SITE_POLICY as it is (5.2 keeps its scripts in files). /api/docs is Django Ninja's Swagger UI served from
the copy inside the django-ninja package ("ninja" in INSTALLED_APPS), so it needs nothing from another host.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def _join(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


SITE_POLICY = _join({
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # data: for the small inline SVG icons in stylesheets (the API docs' Swagger UI uses them)
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
})

# A mail's HTML needs its inline styles (mail clients ignore stylesheets). Shown in a browser it is sandboxed:
# an opaque origin with no script, no forms and no plugins at all; only its styles and images load.
EMAIL_POLICY = _join({
    "sandbox": "",
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "img-src": "'self' https: data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'self'",
    "form-action": "'none'",
})


class ContentSecurityPolicyMiddleware:
    """Adds SITE_POLICY to every response that does not carry a policy of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(HEADER, SITE_POLICY)
        return response


def email_rendition(response: HttpResponse) -> HttpResponse:
    """Mark `response`, a mail's HTML, for EMAIL_POLICY; the site's own pages may frame it (the outbox)."""
    response[HEADER] = EMAIL_POLICY
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response
