"""Search and discovery: a lexical index (SQLite FTS5 / PostgreSQL full text), a semantic index
(embeddings of title + abstract), their fusion, similar papers and the "For you" feed.

Callers outside the package use `service.py` (search, suggest, similar, for_you, ...).

Interfaces every part keeps (so the evaluation harness in bench/ can call each method alone):

    lexical.search(query: Query, limit: int) -> list[Hit]
    semantic.search(text: str, limit: int) -> list[Hit]     # [] when no embeddings exist yet
    hybrid.search(query: Query, limit: int) -> list[Hit]

where `Query` comes from `query.parse(text)` and `Hit` is `hits.Hit(paper_id, score, source)`.
Indexes are built and kept in step by the indexers of `indexing.INDEXERS` (`paperboard index`).
"""
