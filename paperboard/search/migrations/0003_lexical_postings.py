"""Bookkeeping for the compact postings of the keyword index (SQLite; see paperboard/search/postings.py).

  search_lexicalstate   one row: a random epoch, new whenever the index is rebuilt from scratch
  search_lexicallog     the ids of papers (re)indexed or removed in FTS5, appended in the same transaction;
                        processes fold the papers logged since their postings were built into a delta

PostgreSQL keeps ranking in the database (GIN + ts_rank_cd) and gets nothing. Like 0001, no foreign keys:
the log may name papers that were deleted since.
"""

from django.db import migrations

SQLITE = [
    "CREATE TABLE search_lexicalstate (id integer NOT NULL PRIMARY KEY CHECK (id = 1), epoch varchar(32) NOT NULL)",
    "CREATE TABLE search_lexicallog (seq integer NOT NULL PRIMARY KEY AUTOINCREMENT, paper_id integer NOT NULL)",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS search_lexicallog", "DROP TABLE IF EXISTS search_lexicalstate"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0002_semantic")]

    operations = [migrations.RunPython(_run(SQLITE), _run(SQLITE_DROP), elidable=False)]
