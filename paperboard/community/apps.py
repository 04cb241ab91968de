from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "paperboard.community"
    label = "community"

    def ready(self) -> None:
        from paperboard.accounts import sections  # lazy: AppConfig.ready, once models can be imported
        from paperboard.community import collections  # lazy: as above
        from paperboard.community.models import AuthorClaim, Collection, CollectionItem, Comment  # lazy: as above
        from paperboard.papers import freshness  # lazy: as above

        sections.PROFILE.append(collections.profile_section)
        for model in (Comment, AuthorClaim, Collection, CollectionItem):
            freshness.watch(model)
        freshness.watch_m2m(Collection.papers.through)
