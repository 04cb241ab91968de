"""`paperboard copy-db --to URL`: every row of this instance's database into another, then verified.

The usual move is SQLite -> PostgreSQL (any pair works). Steps:

1. the target is migrated (`migrate --database target`) and must hold no papers or accounts;
2. the rows Django's own migrations put there (content types, permissions) are deleted, so that ids
   stay exactly as in the source;
3. every model's rows are copied in dependency order through the ORM (so booleans, dates, JSON and
   bytes are converted for the target), BATCH at a time, primary keys kept, in one transaction;
4. PostgreSQL sequences are moved past the copied ids;
5. verification: per table, the row count and a SHA-256 of its rows in primary-key order (values
   normalised: JSON with sorted keys, bytes as bytes) must be equal on both sides.

Search indexes are not rows of models (FTS5 / tsvector tables): run `paperboard index` against the
target afterwards (the command prints the line to run). Embeddings are rows and are copied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers import sort_dependencies
from django.db import connections, transaction

from paperboard import conf
from paperboard.papers.models import Paper

BATCH = 2000
ALIAS = "copy_target"


class CopyError(RuntimeError):
    pass


@dataclass
class Report:
    tables: dict[str, int] = field(default_factory=dict)
    mismatched: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def models_in_order() -> list:
    """Every concrete, managed model (auto-created many-to-many tables included), parents before children."""
    app_list = [(config, None) for config in apps.get_app_configs()]
    ordered = []
    for model in sort_dependencies(app_list, allow_cycles=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        ordered.append(model)
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            if through._meta.auto_created and through not in ordered:
                ordered.append(through)
    return ordered


def connect(url: str) -> str:
    """Register the target database under ALIAS (with Django's defaults filled in)."""
    target = conf.parse_database_url(url, settings.DATA_DIR)
    configured = connections.configure_settings({"default": dict(connections.settings["default"]), ALIAS: target})
    connections.settings[ALIAS] = configured[ALIAS]
    return ALIAS


@contextmanager
def _stored_times_kept(model):
    """bulk_create would stamp auto_now / auto_now_add fields with the time of the copy: keep the source's."""
    fields = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, now_add in saved:
            f.auto_now, f.auto_now_add = now, now_add


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _normalise(value):
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def fingerprint(model, using: str) -> tuple[int, str]:
    h = hashlib.sha256()
    n = 0
    rows = model._base_manager.using(using).order_by("pk").values_list(*_columns(model))
    for row in rows.iterator(chunk_size=BATCH):
        h.update(repr(tuple(_normalise(v) for v in row)).encode())
        n += 1
    return n, h.hexdigest()


def _has_data(using: str) -> bool:
    return Paper.objects.using(using).exists() or get_user_model().objects.using(using).exists()


def copy_to(url: str, *, progress: Callable[[str, int], None] | None = None) -> Report:
    alias = connect(url)
    source, target = connections["default"], connections[alias]
    if source.vendor == target.vendor and source.settings_dict["NAME"] == target.settings_dict["NAME"]:
        raise CopyError("the target is this instance's own database")
    call_command("migrate", database=alias, verbosity=0, interactive=False)
    if _has_data(alias):
        raise CopyError("the target already holds papers or accounts: copy into an empty database")
    models = models_in_order()
    report = Report()
    with transaction.atomic(using=alias):
        for model in reversed(models):  # what migrations put there (content types, permissions, counters)
            model._base_manager.using(alias).all()._raw_delete(alias)
        for model in models:
            with _stored_times_kept(model):
                n = _copy_rows(model, alias)
            report.tables[model._meta.db_table] = n
            if progress:
                progress(model._meta.db_table, n)
        statements = target.ops.sequence_reset_sql(no_style(), models)
        if statements:
            with target.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
    for model in models:
        if fingerprint(model, "default") != fingerprint(model, alias):
            report.mismatched.append(model._meta.db_table)
    return report


def _copy_rows(model, alias: str) -> int:
    cols = _columns(model)
    n = 0
    batch = []
    manager = model._base_manager
    for row in manager.using("default").order_by("pk").values_list(*cols).iterator(chunk_size=BATCH):
        batch.append(model(**dict(zip(cols, row))))
        if len(batch) == BATCH:
            manager.using(alias).bulk_create(batch)
            n += len(batch)
            batch = []
    if batch:
        manager.using(alias).bulk_create(batch)
        n += len(batch)
    return n
