"""Follow any view as a feed: RSS 2.0, Atom 1.0 and JSON Feed 1.1 (see docs/feeds.md).

A Django app without models (installed for its template tag); one module per job:

    formats.py      the three formats: extension, media type, label
    links.py        each view's feed: its title and URLs (self links, and the pages' autodiscovery tags)
    sources.py      which papers each view's feed holds, from the pages' own queries
    items.py        the format-free feed: one Item per paper, the feed's updated time
    text.py         text a feed can carry (no control characters)
    render.py       RSS, Atom and JSON Feed bytes from one feed
    conditional.py  ETag, Last-Modified and the 304 answer
    views.py        the views: source -> items -> render -> conditional GET
    urls.py         the routes, included from paperboard/urls.py
    templatetags/   `{% feed_links %}`

The pages carry `<link rel="alternate">` tags from `{% feed_links %}`
(paperboard/feeds/templatetags/feed_links.py).
"""
