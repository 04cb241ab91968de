"""Template tags of the community features. They format what the view put in the context; no queries.

{% load community_tags %}
{% voted_on paper as voted %}        has the current user upvoted `paper`?
"""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def voted_on(context, paper) -> bool:
    """Whether the current user voted on `paper`: `paper.pk in voted_ids` when the view put `voted_ids` (a
    set of paper ids) in the context, else the paper's card's `voted` (papers.queries.load_cards(user=))."""
    known = context.get("voted_ids")
    if known is not None:
        return paper.pk in known
    return bool(getattr(paper, "voted", False))
