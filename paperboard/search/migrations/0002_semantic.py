"""Semantic search tables: embeddings, their version rows, For-you interests; pgvector when available.

On PostgreSQL whose server has the pgvector extension (and a role allowed to create it), the last step adds
`search_embedding.vec vector(384)` and an HNSW index; elsewhere it does nothing, and the in-process index
is used (see paperboard/search/pgvector.py, which can also do this later: `paperboard index semantic`).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def enable_pgvector(apps, schema_editor):
    from paperboard.search.semantic import pgvector

    pgvector.install(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('papers', '0002_rate_counter'),
        ('search', '0001_lexical'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SemanticState',
            fields=[
                ('model', models.CharField(max_length=100, primary_key=True, serialize=False)),
                ('epoch', models.CharField(max_length=32)),
                ('max_seq', models.BigIntegerField(default=0)),
                ('count', models.BigIntegerField(default=0, help_text='rows written for this model (deletions not subtracted)')),
                ('modified', models.DateTimeField(auto_now=True)),
            ],
            options={
                'db_table': 'search_semanticstate',
            },
        ),
        migrations.CreateModel(
            name='Embedding',
            fields=[
                ('paper', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='papers.paper')),
                ('model', models.CharField(help_text='embedding model and truncation, e.g. all-MiniLM-L6-v2/256', max_length=100)),
                ('paper_hash', models.CharField(help_text='Paper.content_hash when it was embedded', max_length=32)),
                ('text_hash', models.CharField(help_text='hash of the text that was embedded (title. abstract)', max_length=32)),
                ('vector', models.BinaryField(help_text='float32 little-endian, L2-normalised')),
                ('seq', models.BigIntegerField(help_text='SemanticState.max_seq of the batch that wrote this row')),
                ('created', models.DateTimeField(auto_now=True)),
            ],
            options={
                'db_table': 'search_embedding',
                'indexes': [models.Index(fields=['model', 'seq'], name='embedding_model_seq_idx')],
            },
        ),
        migrations.CreateModel(
            name='Interest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category', models.CharField(max_length=40)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='search_interests', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'search_interest',
                'constraints': [models.UniqueConstraint(fields=('user', 'category'), name='one_interest_per_category')],
            },
        ),
        migrations.RunPython(enable_pgvector, migrations.RunPython.noop, elidable=False),
    ]
