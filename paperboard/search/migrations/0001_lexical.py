"""The lexical index: SQLite FTS5 or PostgreSQL full text, chosen by the database in use.

SQLite:
  search_fts           FTS5 table (title, authors, abstract), rowid = papers_paper.id,
                       tokenizer `porter unicode61 remove_diacritics 2`
  search_lexicaldoc    which papers are indexed, and from which version of their metadata
PostgreSQL:
  search_lexicaldoc    the same bookkeeping plus `document tsvector` (title A, authors B, abstract C), GIN index

No foreign key to papers_paper on purpose: Django's flush (tests) truncates only model tables, and a
foreign key would make PostgreSQL refuse that. Rows of deleted papers are ignored by every query (they
join papers_paper) and removed by `paperboard index`.
"""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "title, authors, abstract, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TABLE search_lexicaldoc ("
    "paper_id integer NOT NULL PRIMARY KEY, content_hash varchar(32) NOT NULL, modified datetime NOT NULL)",
]
SQLITE_DROP = ["DROP TABLE IF EXISTS search_lexicaldoc", "DROP TABLE IF EXISTS search_fts"]

POSTGRES = [
    "CREATE TABLE search_lexicaldoc ("
    "paper_id bigint NOT NULL PRIMARY KEY, content_hash varchar(32) NOT NULL, "
    "modified timestamp with time zone NOT NULL, document tsvector NOT NULL)",
    "CREATE INDEX search_lexicaldoc_document_idx ON search_lexicaldoc USING GIN (document)",
]
POSTGRES_DROP = ["DROP TABLE IF EXISTS search_lexicaldoc"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements_by_vendor:
            raise RuntimeError(f"the lexical search index supports SQLite and PostgreSQL, not {vendor}")
        for sql in statements_by_vendor[vendor]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("papers", "0002_rate_counter")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
            elidable=False,
        ),
    ]
