"""Template tags of semantic discovery, so the paper page gets its similar papers without view changes.

    {% load similar_tags %}
    {% similar_papers paper as similar %}     up to 6 papers like `paper` (search.similar), [] on any error

The tag runs while the page renders: the anonymous paper page is cached whole (papers.caching), so the
list is computed once per data version and page, not once per visitor.
"""

from __future__ import annotations

import logging

from django import template

from paperboard.search import similar

register = template.Library()
logger = logging.getLogger("paperboard.search")


@register.simple_tag
def similar_papers(paper, limit: int = 6) -> list:
    if paper is None or getattr(paper, "pk", None) is None:
        return []
    try:
        return similar.similar_papers(paper, limit)
    except Exception:  # a broken index must not take the paper page down with it
        logger.exception("similar papers of %s failed", getattr(paper, "arxiv_id", paper))
        return []
