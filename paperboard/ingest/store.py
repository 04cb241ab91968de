"""Upsert normalised records into the database in batches, by arXiv id.

Speed matters (the whole corpus is 275k papers), so this module writes with plain SQL and
`executemany`, one transaction per batch, on both SQLite and PostgreSQL. It runs a fixed number of
queries per batch, not per paper.

Rules:
- a paper is keyed by its arXiv id without version;
- a record whose metadata hash equals the stored one is *unchanged* and costs no write;
- a record from an older version than the stored one never overwrites it;
- empty fields in a record never wipe stored values (a source without authors keeps the authors
  another source brought);
- a record carrying a feed day (Hugging Face daily papers) creates or updates the paper's submission
  and its imported upvote count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from paperboard.ingest.limits import MAX_KEPT_REJECTIONS
from paperboard.ingest.records import PaperRecord, Rejected
from paperboard.papers import freshness
from paperboard.papers.signals import papers_written

BATCH_SIZE = 2000
P = "papers_paper"
A = "papers_paperauthor"
C = "papers_papercategory"
S = "papers_submission"

# Metadata columns written by the importer, in this order.
META = (
    "version",
    "title",
    "abstract",
    "primary_category",
    "published_at",
    "updated_at",
    "comment",
    "journal_ref",
    "doi",
    "github_repo",
    "project_page",
    "github_stars",
)


@dataclass
class ImportStats:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    submissions_new: int = 0
    submissions_updated: int = 0
    rejections: list[Rejected] = field(default_factory=list)  # the first MAX_KEPT_REJECTIONS only

    def keep(self, rejections: Iterable[Rejected]) -> None:
        """Keep rejections for the caller, up to MAX_KEPT_REJECTIONS (`rejected` counts them all)."""
        room = MAX_KEPT_REJECTIONS - len(self.rejections)
        if room > 0:
            self.rejections.extend(list(rejections)[:room])

    @property
    def seen(self) -> int:
        return self.new + self.updated + self.unchanged + self.rejected

    def add(self, other: ImportStats) -> None:
        for f in fields(self):
            if f.name == "rejections":
                self.keep(other.rejections)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> str:
        text = f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, {self.rejected} rejected"
        if self.submissions_new or self.submissions_updated:
            text += f"; feed days: {self.submissions_new} new, {self.submissions_updated} updated"
        return text


def content_hash(r: PaperRecord) -> str:
    """Hash every metadata field the importer stores; equal hashes mean nothing to write."""
    parts = [
        str(r.version or ""),
        r.title,
        r.abstract,
        "\x1e".join(r.authors),
        "\x1e".join(r.categories),
        r.published_at.isoformat() if r.published_at else "",
        r.updated_at.isoformat() if r.updated_at else "",
        r.comment,
        r.journal_ref,
        r.doi,
        r.github_repo,
        r.project_page,
        "" if r.github_stars is None else str(r.github_stars),
    ]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def _merge(new: PaperRecord, old: PaperRecord) -> PaperRecord:
    """Fill the empty fields of `new` from `old` (a source that lacks a field never wipes it)."""
    for f in fields(PaperRecord):
        if f.name in ("submission", "arxiv_id"):
            continue
        value = getattr(new, f.name)
        if value in (None, "", []):
            setattr(new, f.name, getattr(old, f.name))
    if old.version and new.version and old.version > new.version:
        new.version = old.version
    # A day-only date (OAI `arXiv`, the corpus) never replaces a full timestamp of the same day.
    for name in ("published_at", "updated_at"):
        n, o = getattr(new, name), getattr(old, name)
        if n and o and n.date() == o.date() and n.time() == dt.time(0) and o.time() != dt.time(0):
            setattr(new, name, o)
    return new


def _row(r: PaperRecord, adapt_dt) -> list:
    return [
        r.version or 1,
        r.title,
        r.abstract,
        r.categories[0] if r.categories else "",
        adapt_dt(r.published_at),
        adapt_dt(r.updated_at),
        r.comment,
        r.journal_ref,
        r.doi,
        r.github_repo,
        r.project_page,
        r.github_stars,
    ]


def _as_utc(value) -> dt.datetime | None:
    """Read a datetime column back from a raw cursor (SQLite gives text) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _chunks(seq: list, size: int = 500):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


class Store:
    """Write batches of records; one instance per import run."""

    def __init__(self) -> None:
        self.ops = connection.ops
        self.now = timezone.now()
        self._users: dict[str, int] = {}

    def _dt(self, value):
        return self.ops.adapt_datetimefield_value(value)

    def _fetch(self, cur, sql: str, keys: list) -> list[tuple]:
        rows: list[tuple] = []
        for chunk in _chunks(keys):
            cur.execute(sql.replace("(%s)", "(" + ",".join(["%s"] * len(chunk)) + ")"), chunk)
            rows.extend(cur.fetchall())
        return rows

    def _load_full(self, cur, pks: dict[int, str]) -> dict[int, PaperRecord]:
        """Read stored papers back as records (only for papers whose hash changed)."""
        keys = list(pks)
        out: dict[int, PaperRecord] = {}
        cols = ", ".join(META)
        for row in self._fetch(cur, f"SELECT id, {cols} FROM {P} WHERE id IN (%s)", keys):
            pk, version, title, abstract, _primary, pub, upd, comment, jref, doi, repo, page, stars = row
            pub, upd = _as_utc(pub), _as_utc(upd)
            out[pk] = PaperRecord(
                arxiv_id=pks[pk],
                title=title,
                abstract=abstract,
                version=version,
                published_at=pub,
                updated_at=upd,
                comment=comment,
                journal_ref=jref,
                doi=doi,
                github_repo=repo,
                project_page=page,
                github_stars=stars,
            )
        for pk, name in self._fetch(cur, f"SELECT paper_id, name FROM {A} WHERE paper_id IN (%s) ORDER BY paper_id, position", keys):
            out[pk].authors.append(name)
        for pk, code in self._fetch(cur, f"SELECT paper_id, code FROM {C} WHERE paper_id IN (%s) ORDER BY paper_id, position", keys):
            out[pk].categories.append(code)
        return out

    def _children(self, cur, items: list[tuple[int, PaperRecord]]) -> None:
        authors = [(pk, i, name) for pk, r in items for i, name in enumerate(r.authors)]
        cats = [(pk, i, code) for pk, r in items for i, code in enumerate(r.categories)]
        if authors:
            cur.executemany(f"INSERT INTO {A} (paper_id, position, name) VALUES (%s, %s, %s)", authors)
        if cats:
            cur.executemany(f"INSERT INTO {C} (paper_id, position, code) VALUES (%s, %s, %s)", cats)

    def write_batch(self, records: list[PaperRecord]) -> ImportStats:
        """Upsert one batch (ids unique within it) in one transaction."""
        stats = ImportStats()
        hashes = {r.arxiv_id: content_hash(r) for r in records}
        with transaction.atomic(), connection.cursor() as cur:
            existing = {
                aid: (pk, version, h)
                for pk, aid, version, h in self._fetch(
                    cur, f"SELECT id, arxiv_id, version, content_hash FROM {P} WHERE arxiv_id IN (%s)", list(hashes)
                )
            }
            new, maybe = [], []
            for r in records:
                old = existing.get(r.arxiv_id)
                if old is None:
                    new.append(r)
                elif old[2] == hashes[r.arxiv_id] or (r.version and old[1] and r.version < old[1]):
                    stats.unchanged += 1
                else:
                    maybe.append((old[0], r))
            # Changed hash: merge with what is stored, then write only what really differs.
            changed: list[tuple[int, PaperRecord]] = []
            if maybe:
                stored = self._load_full(cur, {pk: r.arxiv_id for pk, r in maybe})
                for pk, r in maybe:
                    merged = _merge(r, stored[pk])
                    h = content_hash(merged)
                    if h == existing[r.arxiv_id][2] or h == content_hash(stored[pk]):
                        stats.unchanged += 1
                    else:
                        hashes[r.arxiv_id] = h
                        changed.append((pk, merged))
            if changed:
                sets = ", ".join(f"{c} = %s" for c in META)
                cur.executemany(
                    f"UPDATE {P} SET {sets}, content_hash = %s, modified = %s WHERE id = %s",
                    [[*_row(r, self._dt), hashes[r.arxiv_id], self._dt(self.now), pk] for pk, r in changed],
                )
                pks = [pk for pk, _ in changed]
                for chunk in _chunks(pks):
                    marks = ",".join(["%s"] * len(chunk))
                    cur.execute(f"DELETE FROM {A} WHERE paper_id IN ({marks})", chunk)
                    cur.execute(f"DELETE FROM {C} WHERE paper_id IN ({marks})", chunk)
                self._children(cur, changed)
                stats.updated += len(changed)
            if new:
                cols = ", ".join(("arxiv_id", *META))
                marks = ", ".join(["%s"] * (len(META) + 1))
                now = self._dt(self.now)
                cur.executemany(
                    f"INSERT INTO {P} ({cols}, content_hash, created, modified, upvotes, imported_upvotes, "
                    f"num_comments, hidden) VALUES ({marks}, %s, %s, %s, 0, 0, 0, %s) "
                    "ON CONFLICT (arxiv_id) DO NOTHING",
                    [[r.arxiv_id, *_row(r, self._dt), hashes[r.arxiv_id], now, now, False] for r in new],
                )
                ids = dict(
                    (aid, pk)
                    for pk, aid in self._fetch(
                        cur, f"SELECT id, arxiv_id FROM {P} WHERE arxiv_id IN (%s)", [r.arxiv_id for r in new]
                    )
                )
                self._children(cur, [(ids[r.arxiv_id], r) for r in new])
                stats.new += len(new)
                existing.update({r.arxiv_id: (ids[r.arxiv_id], r.version, hashes[r.arxiv_id]) for r in new})
            feed = [(existing[r.arxiv_id][0], r) for r in records if r.submission is not None]
            if feed:
                self._write_submissions(cur, feed, stats)
            # The search index keeps in step, inside this transaction (paperboard/search/receivers.py).
            written = [pk for pk, _ in changed] + [existing[r.arxiv_id][0] for r in new]
            papers_written.send(sender=Store, cursor=cur, paper_ids=written, run=self)
        return stats

    def _user_id(self, username: str, fullname: str) -> int | None:
        """Return the id of the local account for an imported submitter, creating a passwordless one."""
        if not username:
            return None
        if username not in self._users:
            User = get_user_model()
            user, created = User.objects.get_or_create(username=username[:150], defaults={"first_name": fullname[:150]})
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            self._users[username] = user.pk
        return self._users[username]

    def _write_submissions(self, cur, feed: list[tuple[int, PaperRecord]], stats: ImportStats) -> None:
        pks = [pk for pk, _ in feed]
        current = {
            pk: (day, sid)
            for pk, day, sid in self._fetch(cur, f"SELECT paper_id, day, submitter_id FROM {S} WHERE paper_id IN (%s)", pks)
        }
        counts = {
            pk: (imp, up, nc)
            for pk, imp, up, nc in self._fetch(
                cur, f"SELECT id, imported_upvotes, upvotes, num_comments FROM {P} WHERE id IN (%s)", pks
            )
        }
        inserts, updates, counters = [], [], []
        for pk, r in feed:
            s = r.submission
            assert s is not None
            uid = self._user_id(s.submitter, s.submitter_fullname)
            day = self.ops.adapt_datefield_value(s.day)
            if pk not in current:
                inserts.append([pk, day, self._dt(s.submitted_at), uid, "", "hf"])
            elif str(current[pk][0]) != str(day) or current[pk][1] != uid:
                updates.append([day, self._dt(s.submitted_at), uid, pk])
            imported, upvotes, num_comments = counts[pk]
            new_imported = imported if s.upvotes is None else s.upvotes
            new_comments = num_comments if s.num_comments is None else max(num_comments, s.num_comments)
            if new_imported != imported or new_comments != num_comments:
                counters.append([new_imported, upvotes - imported + new_imported, new_comments, pk])
        if inserts:
            cur.executemany(
                f"INSERT INTO {S} (paper_id, day, submitted_at, submitter_id, note, source) VALUES (%s, %s, %s, %s, %s, %s)",
                inserts,
            )
        if updates:
            cur.executemany(f"UPDATE {S} SET day = %s, submitted_at = %s, submitter_id = %s WHERE paper_id = %s", updates)
        if counters:
            cur.executemany(
                f"UPDATE {P} SET imported_upvotes = %s, upvotes = %s, num_comments = %s WHERE id = %s", counters
            )
        stats.submissions_new += len(inserts)
        stats.submissions_updated += len(updates) + len([c for c in counters if c[3] in current])


ANALYZE_AFTER = 10_000  # papers written in one import: enough change to refresh the planner's statistics


def refresh_planner_statistics() -> None:
    """Let the query planner see the new table sizes (PostgreSQL without autovacuum otherwise scans
    900k author rows sequentially for every feed page: bench/results/profiling.md)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"ANALYZE {P}, {A}, {C}, {S}")
        elif connection.vendor == "sqlite":
            cur.execute("PRAGMA optimize")


def import_records(
    items: Iterable[PaperRecord | Rejected],
    *,
    batch_size: int = BATCH_SIZE,
    on_reject: Callable[[Rejected], None] | None = None,
    on_batch: Callable[[ImportStats], None] | None = None,
    store: Store | None = None,
) -> ImportStats:
    """Upsert every record of `items`; report each Rejected through `on_reject`. Returns the totals.

    Pass one `store` to several calls to make them one import run (e.g. the files of one command).
    """
    store = store or Store()
    total = ImportStats()
    batch: dict[str, PaperRecord] = {}

    def flush() -> None:
        if batch:
            stats = store.write_batch(list(batch.values()))
            batch.clear()
            total.add(stats)
            if on_batch:
                on_batch(total)

    for item in items:
        if isinstance(item, Rejected):
            total.rejected += 1
            total.keep([item])
            if on_reject:
                on_reject(item)
            continue
        if item.arxiv_id in batch:  # the same paper twice in a batch: write the first, then the second
            flush()
        batch[item.arxiv_id] = item
        if len(batch) >= batch_size:
            flush()
    flush()
    if total.new or total.updated or total.submissions_new or total.submissions_updated:
        freshness.changed()  # raw SQL, no model signals: one bump for the whole import
        if total.new + total.updated >= ANALYZE_AFTER:
            refresh_planner_statistics()
    return total
