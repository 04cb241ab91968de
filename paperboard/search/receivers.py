"""The search's side of the papers signals (paperboard/papers/signals.py): the keyword index keeps in step
with every import batch, and an import run ends with how many papers still wait for `paperboard index`."""

from __future__ import annotations

from django.dispatch import receiver

from paperboard.papers.signals import papers_imported, papers_written
from paperboard.search import lexical


@receiver(papers_written, dispatch_uid="paperboard.search.lexical.sync")
def index_written_papers(sender, cursor, paper_ids: list[int], run: object | None = None, **kwargs) -> None:
    """A fixed number of statements per batch, inside the importer's transaction (see lexical.sync)."""
    lexical.sync(cursor, paper_ids, run=run)


@receiver(papers_imported, dispatch_uid="paperboard.search.pending")
def papers_waiting_for_the_index(sender, **kwargs) -> str | None:
    waiting = lexical.LexicalIndexer().pending()
    if not waiting:
        return None
    return (
        f"{waiting:,} papers are not in the search index yet: run `paperboard index` "
        "(or `paperboard index --only lexical` for keyword search alone)"
    )
