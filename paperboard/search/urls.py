from django.urls import path  # noqa: F401

urlpatterns: list = []

# "For you" (search.foryou); one route per line.
from django.urls import re_path  # noqa: E402

from paperboard.search import foryou  # noqa: E402

urlpatterns += [
    re_path(r"^for-you(?P<fmt>\.json)?$", foryou.for_you_page, name="for-you"),
    path("for-you/interests", foryou.interests_page, name="for-you-interests"),
]

# Search and topic pages (search.views); one route per line.
from django.urls import re_path  # noqa: E402, F811

from paperboard.search import views as search_views  # noqa: E402

CATEGORY = r"[A-Za-z][A-Za-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?"

urlpatterns += [
    re_path(r"^papers/search(?P<fmt>\.json)?$", search_views.search_page, name="search"),
    path("papers/search/suggest", search_views.suggest, name="search-suggest"),
    re_path(rf"^papers/category/(?P<code>{CATEGORY})(?P<fmt>\.json)?$", search_views.category_page, name="category"),
]
