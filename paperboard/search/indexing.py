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

from __future__ import annotations

import importlib

INDEXERS = (
    "paperboard.search.lexical:LexicalIndexer",
    "paperboard.search.semantic:SemanticIndexer",
)


def load_indexers(paths=None) -> tuple[list, list[tuple[str, str]]]:
    """Instantiate the indexers named by import strings `module:Class`; returns (indexers, [(path, why)])."""
    loaded, failed = [], []
    for path in INDEXERS if paths is None else paths:
        module_name, _, attr = path.partition(":")
        try:
            module = importlib.import_module(module_name)
            loaded.append(getattr(module, attr)())
        except Exception as exc:  # noqa: BLE001 - ImportError, a missing optional dependency, a bad name
            failed.append((path, f"{type(exc).__name__}: {exc}"))
    return loaded, failed
