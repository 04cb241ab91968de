"""The indexers `paperboard index` runs, in order. Each is named by an import string so that an indexer
whose optional dependencies are missing is reported, not fatal.

An indexer is an object with:
    name: str                        e.g. "lexical", "semantic"
    pending() -> int                 papers whose index entry is missing or stale
    run(batch_size: int, progress: Callable[[int], None] | None) -> int
                                     index pending papers in batches, committing each batch, so that an
                                     interrupted run resumes where it stopped; returns how many it indexed
    rebuild() -> None                drop everything so the next run() indexes every paper again
"""

INDEXERS = (
    "paperboard.search.lexical:LexicalIndexer",
    "paperboard.search.semantic:SemanticIndexer",
)
