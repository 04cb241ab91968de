"""Template tags of the community features.

{% load community_tags %}
{% voted_on paper as voted %}        has the current user upvoted `paper`? (one query per page)
{% why_trending paper as why %}      trending.explain(paper, now)
"""

from __future__ import annotations

from django import template

from paperboard.community import trending, votes

register = template.Library()


def _page_paper_ids(context) -> set[int]:
    """Ids of the papers on the page: `paper`, and the papers of `items` (submissions or papers)."""
    found: set[int] = set()
    paper = context.get("paper")
    if getattr(paper, "pk", None) is not None:
        found.add(paper.pk)
    for item in context.get("items") or ():
        p = getattr(item, "paper", item)
        if getattr(p, "pk", None) is not None:
            found.add(p.pk)
    return found


@register.simple_tag(takes_context=True)
def voted_on(context, paper) -> bool:
    """Whether the current user voted on `paper`.

    A view may put `voted_ids` (a set of paper ids) in the context. Otherwise the first call on a
    page looks up every paper of the page (`items` and `paper`) in one query and keeps the answer
    on the request for the other cards.
    """
    known = context.get("voted_ids")
    if known is not None:
        return paper.pk in known
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    cached = getattr(request, "_paperboard_voted", None)
    if cached is None or paper.pk not in cached[0]:
        ids = _page_paper_ids(context) | {paper.pk}
        cached = (ids, votes.voted_ids(user, ids))
        request._paperboard_voted = cached
    return paper.pk in cached[1]


@register.simple_tag
def why_trending(paper) -> trending.Explanation | None:
    if paper is None or getattr(paper, "pk", None) is None:
        return None
    return trending.explain(paper)
