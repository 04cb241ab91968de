"""Feed routes: `feed.atom`, `feed.rss` or `feed.json` under each view's own path; one route per line."""

from django.urls import re_path

from paperboard.feeds import views
from paperboard.feeds.formats import ROUTE
from paperboard.search.urls import CATEGORY

urlpatterns = [
    re_path(rf"^papers/{ROUTE}$", views.daily, name="papers-feed"),  # ?date= | ?week= | ?month=
    re_path(rf"^papers/trending/{ROUTE}$", views.trending, name="trending-feed"),
    re_path(rf"^papers/category/(?P<code>{CATEGORY})/{ROUTE}$", views.category, name="category-feed"),
    re_path(rf"^papers/search/{ROUTE}$", views.search, name="search-feed"),  # the search page's parameters
    re_path(rf"^papers/author/{ROUTE}$", views.author, name="author-feed"),  # ?name=
    re_path(rf"^u/(?P<username>[\w.@+-]+)/collections/(?P<slug>[-\w]+)/{ROUTE}$", views.collection,
            name="collection-feed"),
]
