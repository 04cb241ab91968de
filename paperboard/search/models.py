"""Tables of the semantic side of search (`semantic`, `similar`, `foryou`).

The lexical index lives in plain SQL tables of its own (see `lexical`); these are ordinary models so that
Django's deletion cascades, test flushes and the admin know about them.

- `Embedding`: one vector per paper (all-MiniLM-L6-v2, 384 float32, normalised), written by
  `semantic.SemanticIndexer` in batches. `vector` holds the little-endian float32 bytes on every database;
  on PostgreSQL with pgvector the same table also gets a `vec vector(384)` column and an HNSW index
  (added by the migration or `pgvector.ensure()`, outside the ORM: see `pgvector.py`).
- `SemanticState`: one row per model, bumped in the same transaction as every batch of embeddings, so a
  process can tell in one primary-key read whether its in-process vector index is current (`semantic/inprocess.py`).
- `Interest`: the arXiv categories a reader picked on the "For you" onboarding.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from paperboard.papers.models import Paper


class Embedding(models.Model):
    paper = models.OneToOneField(Paper, primary_key=True, on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=100, help_text="embedding model and truncation, e.g. all-MiniLM-L6-v2/256")
    paper_hash = models.CharField(max_length=32, help_text="Paper.content_hash when it was embedded")
    text_hash = models.CharField(max_length=32, help_text="hash of the text that was embedded (title. abstract)")
    vector = models.BinaryField(help_text="float32 little-endian, L2-normalised")
    seq = models.BigIntegerField(help_text="SemanticState.max_seq of the batch that wrote this row")
    created = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "search_embedding"
        indexes = [models.Index(fields=["model", "seq"], name="embedding_model_seq_idx")]

    def __str__(self) -> str:
        return f"embedding of {self.paper_id} ({self.model})"


class SemanticState(models.Model):
    """Version of the embeddings of one model: `epoch` is random per history, `max_seq` grows per batch."""

    model = models.CharField(max_length=100, primary_key=True)
    epoch = models.CharField(max_length=32)
    max_seq = models.BigIntegerField(default=0)
    count = models.BigIntegerField(default=0, help_text="rows written for this model (deletions not subtracted)")
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "search_semanticstate"


class Interest(models.Model):
    """An arXiv category a reader said they follow (For you onboarding)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="search_interests")
    category = models.CharField(max_length=40)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "search_interest"
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="one_interest_per_category")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.category}"
