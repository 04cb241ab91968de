"""Every URL on one screen: pages, the JSON API, admin, static."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from paperboard.api.api import api, unknown_endpoint
from paperboard.community import views_paper
from paperboard.ops import metrics as ops_metrics
from paperboard.ops import views as ops_views
from paperboard.papers import views
from paperboard.papers.ids import ROUTE_PATTERN

FMT = r"(?P<fmt>\.json)?"

urlpatterns = [
    path("", RedirectView.as_view(url="/papers", permanent=False)),
    re_path(rf"^papers{FMT}$", views.index, name="papers"),
    re_path(rf"^papers/(?P<kind>date)/(?P<slug>[^/]+?){FMT}$", views.period_feed, name="feed-date"),
    re_path(rf"^papers/(?P<kind>week)/(?P<slug>[^/]+?){FMT}$", views.period_feed, name="feed-week"),
    re_path(rf"^papers/(?P<kind>month)/(?P<slug>[^/]+?){FMT}$", views.period_feed, name="feed-month"),
    re_path(rf"^papers/(?P<arxiv_id>{ROUTE_PATTERN})(?P<fmt>\.json|\.md)?$", views_paper.paper_page, name="paper"),
    path("", include("paperboard.feeds.urls")),  # RSS, Atom, JSON Feed: <view>/feed.rss|atom|json (docs/feeds.md)
    path("", include("paperboard.search.urls")),  # /papers/search, /papers/category/<cat>, /for-you
    path("", include("paperboard.accounts.urls")),  # /accounts/…, /u/<username>…
    path("", include("paperboard.community.urls")),  # /papers/submit, votes, comments, claims, collections, moderation
    path("", include("paperboard.digests.urls")),  # /digest/…: subscribe, confirm, preferences, unsubscribe, outbox
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_metrics.metrics_view, name="metrics"),
    path("api/", api.urls),
    re_path(r"^api/", unknown_endpoint),  # after the API's own routes: what they do not match is a JSON 404
    path("admin/", admin.site.urls),
]
