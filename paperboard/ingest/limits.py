"""Every size cap of the importers, in one place (documented in docs/ingest.md, "Limits").

Imports read files that come from elsewhere; these caps keep one hostile or broken file from taking
the memory of the machine or filling the database with junk. A record over a cap is rejected with a
reason that names the cap, and the import goes on.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

# Reading
MAX_LINE_BYTES = 1 * MIB  # one JSON Lines line (a 5,000-author snapshot line is about 350 KiB)
MAX_JSON_ITEM_BYTES = 1 * MIB  # one item of a Hugging Face daily-papers JSON list
MAX_JSON_OBJECT_BYTES = 4 * MIB  # a JSON document that is one `{...}` object rather than a list
MAX_XML_RECORD_BYTES = 4 * MIB  # one Atom <entry> / OAI-PMH <record>: its text plus its markup
MAX_XML_TOKEN_BYTES = 1 * MIB  # one XML tag (name and attributes); text is streamed, not held
SNIFF_BYTES = 1 * MIB  # how far format detection reads before giving up
MAX_KEPT_REJECTIONS = 1000  # rejections kept in memory by an import (all are counted and reported)
MAX_REASON_CHARS = 300  # a rejection's reason is cut to this (it may quote the bad value)

# Fields of one paper (characters, after whitespace is collapsed). Over these the record is rejected.
MAX_TITLE = 1_000
MAX_ABSTRACT = 20_000  # arXiv itself allows 1,920
MAX_AUTHORS = 10_000  # authors per paper; the largest real lists (LHC collaborations) run to ~5,200
MAX_CATEGORIES = 50
MAX_COMMENT = 5_000
MAX_JOURNAL_REF = 2_000

# Fields that are cut or dropped rather than rejected (column widths, see clean.py).
MAX_AUTHOR = 300  # one author name: longer names are cut (real collaboration names run to ~470)
MAX_CATEGORY = 40  # a category code: longer codes are dropped
MAX_DOI = 200  # cut
MAX_URL = 500  # GitHub repository / project page: longer URLs are dropped


def size(n: int) -> str:
    """A byte count for messages: 1 MiB, 4 MiB, 512 KiB."""
    if n % MIB == 0:
        return f"{n // MIB} MiB"
    if n % KIB == 0:
        return f"{n // KIB} KiB"
    return f"{n:,} bytes"
