from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperboard.community"
    label = "community"

    def ready(self):
        from paperboard.community.models import AuthorClaim, Collection, CollectionItem, Comment
        from paperboard.papers import freshness

        for model in (Comment, AuthorClaim, Collection, CollectionItem):
            freshness.watch(model)
        freshness.watch_m2m(Collection.papers.through)
