"""One number, `data_version`, that changes whenever anything a feed shows changes.

Cached pages and API answers put it in their cache key, so every worker process sees a write at
once without a shared cache: reading it is one primary-key lookup.

Writes do not bump it by hand. Each app registers the models whose rows show on cached pages with
`watch()` (in its AppConfig.ready), so every save and delete of such a row calls `changed()`; the few writes
that bypass model signals (`QuerySet.update()`, `bulk_create`, raw SQL in the import) call `changed()` in
their service function, once per write. `changed()` bumps the version when the transaction commits, once
per transaction however many rows it wrote: a reader never stores a page built from data older than the
version it is keyed by, and an import of many rows costs one bump.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save

from paperboard.papers.models import Counter

KEY = "data_version"


def data_version() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT value FROM papers_counter WHERE key = %s", [KEY])
        row = cur.fetchone()
    return row[0] if row else 0


def _bump() -> None:
    updated = Counter.objects.filter(key=KEY).update(value=F("value") + 1)
    if not updated:
        Counter.objects.get_or_create(key=KEY, defaults={"value": 1})


def _commits_for_real() -> bool:
    """False inside a test case's transaction, which is rolled back instead of committed: there the bump is
    made at once, as Django's durable atomic blocks also treat that transaction as absent."""
    blocks = connection.atomic_blocks
    return bool(blocks) and not getattr(blocks[0], "_from_testcase", False)


def changed(scope: str | None = None) -> None:
    """Record a write that a feed, page or API answer shows: the data version goes up when it commits.

    Outside a transaction the bump is made at once. Inside one it waits for the commit and is made once
    however often this is called; a rolled-back write bumps nothing. `scope` names what changed (for finer
    versions later); today every scope bumps the one global version."""
    if not connection.in_atomic_block or not _commits_for_real():
        _bump()
        return
    # Already queued in this transaction: rolling back a savepoint drops the callbacks queued inside it, and
    # the savepoints still open all enclose this write, so the queued bump runs whenever this write commits.
    if any(func is _bump for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_bump)


def _on_save(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    shown = _SHOWN.get(sender)
    if shown is not None and update_fields is not None and not shown & set(update_fields):
        return  # e.g. a login stamping last_login: nothing a page shows
    changed()


def _on_delete(sender, instance, **kwargs) -> None:
    changed()


def _on_m2m(sender, instance, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        changed()


_SHOWN: dict[type, frozenset[str]] = {}


def watch(model, *, fields: Iterable[str] | None = None) -> None:
    """Bump the data version on every save and delete of `model` (or only on saves that touch `fields`,
    the columns a page shows). A many-to-many relation's through model is watched with `watch_m2m`."""
    if fields is not None:
        _SHOWN[model] = frozenset(fields)
    uid = f"paperboard-freshness-{model._meta.label_lower}"
    post_save.connect(_on_save, sender=model, dispatch_uid=f"{uid}-save")
    post_delete.connect(_on_delete, sender=model, dispatch_uid=f"{uid}-delete")


def watch_m2m(through) -> None:
    """Bump the data version when a many-to-many relation (`Model.field.through`) is added to or cleared."""
    m2m_changed.connect(_on_m2m, sender=through, dispatch_uid=f"paperboard-freshness-{through._meta.label_lower}-m2m")
