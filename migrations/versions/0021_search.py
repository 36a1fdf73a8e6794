"""Full-text search: the index's documents, their tokens, and saved searches.

Revision ID: 0021_search
Revises: 0020_lifecycle_index
Create Date: 2026-12-03

- ``search_documents``: one row per piece of text that can find an item (portal.search.models).
- The tokens (bigrams, portal.search.tokens) beside them, by database: on SQLite an FTS5 table
  ``search_fts`` whose rowid is the document's id; on PostgreSQL a ``tsv`` column with a GIN
  index. Neither is in the models' metadata (portal.core.migrations.include_name leaves them
  out of the comparison).
- ``saved_searches``: a user's saved searches.
- The index is built for the items already there.
"""

import sqlalchemy as sa
from alembic import op

from portal.search.index import rebuild

revision = "0021_search"
down_revision = "0020_lifecycle_index"
branch_labels = None
depends_on = None

#: the length limits this revision adds (tests/security/test_limits_in_database.py)
LENGTHS = {"saved_searches": {"name": 60, "query": 1000}}


def upgrade():
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
    )
    op.create_index("ix_search_documents_item", "search_documents", ["item_id"])
    op.create_index("ix_search_documents_source", "search_documents", ["kind", "source_id"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(tokens, tokenize = 'unicode61')")
    else:
        op.execute("ALTER TABLE search_documents ADD COLUMN tsv tsvector NOT NULL")
        op.execute("CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)")
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(name) <= 60", name=op.f("ck_saved_searches_name_length")),
        sa.CheckConstraint("length(query) <= 1000", name=op.f("ck_saved_searches_query_length")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_saved_searches_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_saved_searches_user_id")),
    )
    op.create_index(op.f("ix_saved_searches_user_id"), "saved_searches", ["user_id"])
    rebuild(bind)


def downgrade():
    op.drop_index(op.f("ix_saved_searches_user_id"), table_name="saved_searches")
    op.drop_table("saved_searches")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.drop_index("ix_search_documents_source", table_name="search_documents")
    op.drop_index("ix_search_documents_item", table_name="search_documents")
    op.drop_table("search_documents")
