"""Template tags of discussion, claims and collections, so pages get their data without view changes.

    {% load discuss_tags %}
    {% discuss paper as d %}                   a paper page's discussion part (views_discuss.discuss_context)
    {% collections_of profile_user as cols %}  the collections of a user that the viewer may see
"""

from __future__ import annotations

from django import template

from paperboard.community import collections
from paperboard.community.views_discuss import discuss_context

register = template.Library()


@register.simple_tag(takes_context=True)
def discuss(context, paper) -> dict:
    return discuss_context(context.get("request"), paper)


@register.simple_tag(takes_context=True)
def collections_of(context, owner) -> list:
    if owner is None or getattr(owner, "pk", None) is None:
        return []
    request = context.get("request")
    return collections.of_user(owner, getattr(request, "user", None))
