"""The site's URL conf plus one view that fails, to see the server error page (tests/test_csp.py)."""

from django.urls import include, path


def fails(request):
    raise RuntimeError("a server error, on purpose")


urlpatterns = [path("fails", fails), path("", include("paperboard.urls"))]
