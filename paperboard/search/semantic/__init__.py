"""Semantic search: embeddings of `title. abstract`, nearest neighbours by cosine similarity.

    search(text, limit) -> list[Hit]                         # [] when no embeddings exist yet
    search_vector(vec, limit, exclude_ids=()) -> list[Hit]   # visible papers only, best first
    SemanticIndexer                                          # `paperboard index` builds the embeddings

Modules: engine.py (searching, embedding papers on the fly, the indexer), embed.py (the model),
store.py (the `search_embedding` table), inprocess.py (the memory-mapped in-process index), pgvector.py
(the index in PostgreSQL), offline.py (vectors made on another machine; their file format is
../offline_format.py, importable without Django so tools/embed_offline.py runs anywhere).
"""

from paperboard.search.semantic.engine import (
    SOURCE,
    SemanticIndexer,
    backend,
    nearest,
    prefetch,
    query_vector,
    ready,
    search,
    search_vector,
    vectors_for,
)

__all__ = [
    "SOURCE", "SemanticIndexer", "backend", "nearest", "prefetch", "query_vector", "ready", "search",
    "search_vector", "vectors_for",
]
