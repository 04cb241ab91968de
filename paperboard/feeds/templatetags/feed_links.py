"""`{% feed_links view args… %}`: a page's `<link rel="alternate">` tags for its own view's feed.

    {% load feed_links %}
    {% feed_links %}                          the site-wide daily feed (base.html's default)
    {% feed_links "daily" period %}           a day, week or month (None: the latest day)
    {% feed_links "trending" %}
    {% feed_links "category" code %}
    {% feed_links "search" s %}               s: the search page's `Search`
    {% feed_links "collection" collection %}  only for a public collection

The URLs and titles come from paperboard.feeds.links; the tags from templates/feeds/_links.html.
"""

from django import template

from paperboard.feeds import links

register = template.Library()

VIEWS = {
    "daily": links.daily,
    "trending": links.trending,
    "category": links.category,
    "search": links.search,
    "author": links.author,
    "collection": links.collection,
}


@register.inclusion_tag("feeds/_links.html")
def feed_links(view: str = "daily", *args) -> dict:
    return {"feed": VIEWS[view](*args)}
