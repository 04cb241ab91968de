from django.urls import path  # noqa: F401

urlpatterns: list = []

# Submit, upvote, trending (views_feed); one route per line.
from django.urls import re_path  # noqa: E402

from paperboard.community import views_feed  # noqa: E402
from paperboard.papers.ids import ROUTE_PATTERN  # noqa: E402

urlpatterns += [
    path("papers/submit", views_feed.submit_page, name="submit"),
    re_path(r"^papers/trending(?P<fmt>\.json)?$", views_feed.trending_page, name="trending"),
    re_path(rf"^papers/(?P<arxiv_id>{ROUTE_PATTERN})/upvote$", views_feed.upvote, name="paper-upvote"),
]

# Discussion, author claims, collections, flags, moderation (views_discuss); one route per line.
from django.urls import re_path  # noqa: E402

from paperboard.community import views_discuss as discuss  # noqa: E402
from paperboard.papers.ids import ROUTE_PATTERN as _ARXIV  # noqa: E402

urlpatterns += [
    re_path(rf"^papers/(?P<arxiv_id>{_ARXIV})/comments$", discuss.comment_post, name="comment-post"),
    path("comments/<int:pk>/edit", discuss.comment_edit, name="comment-edit"),
    path("comments/<int:pk>/delete", discuss.comment_delete, name="comment-delete"),
    re_path(rf"^papers/(?P<arxiv_id>{_ARXIV})/claim$", discuss.claim_post, name="claim-post"),
    re_path(rf"^papers/(?P<arxiv_id>{_ARXIV})/links$", discuss.links_post, name="paper-links"),
    re_path(rf"^papers/(?P<arxiv_id>{_ARXIV})/collect$", discuss.collect, name="collect"),
    re_path(rf"^papers/(?P<arxiv_id>{_ARXIV})/uncollect$", discuss.uncollect, name="uncollect"),
    re_path(r"^u/(?P<username>[\w.@+-]+)/collections$", discuss.collection_index, name="collections"),
    re_path(r"^u/(?P<username>[\w.@+-]+)/collections/(?P<slug>[-\w]+)$", discuss.collection_page, name="collection"),
    re_path(r"^u/(?P<username>[\w.@+-]+)/collections/(?P<slug>[-\w]+)/edit$", discuss.collection_edit, name="collection-edit"),
    re_path(r"^u/(?P<username>[\w.@+-]+)/collections/(?P<slug>[-\w]+)/delete$", discuss.collection_delete, name="collection-delete"),
    path("flags", discuss.flag_post, name="flag"),
    path("admin/moderation", discuss.moderation_queue, name="moderation"),
    path("admin/moderation/act", discuss.moderation_act, name="moderation-act"),
    path("admin/moderation/log", discuss.moderation_log, name="moderation-log"),
]
