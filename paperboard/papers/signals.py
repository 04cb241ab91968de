"""What the layers below the search tell it about papers, without importing it (the search app listens:
paperboard/search/receivers.py, connected in its AppConfig.ready).

    papers_written(sender, cursor, paper_ids, run)
        sent by the importer inside each batch's transaction, with the ids of the papers it inserted or
        changed; `run` is the import run, so a receiver can budget its work per run
    papers_imported(sender)
        sent once after an import run wrote papers; a receiver may answer with one line for the operator
"""

from django.dispatch import Signal

papers_written = Signal()
papers_imported = Signal()


def import_notes(sender) -> list[str]:
    """Send `papers_imported` and return the receivers' lines (those that answered one)."""
    return [line for _, line in papers_imported.send(sender=sender) if line]
