"""The search index's documents and the users' saved searches.

One `SearchDocument` per piece of text that can find an item: its title, its finding, its
completion and public summaries, each measure, each piece of evidence (note and file name) and
each piece of public feedback on it. `public` says whether the public side shows the text when
the item is published (feedback is judged by its own moderation state instead). The tokens are
kept beside it by the database: an FTS5 table `search_fts` (rowid = the document's id) on
SQLite, a `tsv` column with a GIN index on PostgreSQL (portal.search.index; migration 0021).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from portal.core.models import max_lengths

#: the kinds of document, in the order results show their snippets
KINDS = ("title", "finding", "measure", "completion", "public_summary", "evidence", "feedback")
NAME_MAX_LENGTH = 60
QUERY_MAX_LENGTH = 1000
#: saved searches per user (the home page shows each one)
MAX_SAVED = 20


class SearchDocument(db.Model):
    __tablename__ = "search_documents"
    __table_args__ = (
        sa.Index("ix_search_documents_item", "item_id"),
        sa.Index("ix_search_documents_source", "kind", "source_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: no foreign key: the index is rewritten by the flush that changes an item (even the one
    #: that deletes it), never cascaded behind its back
    item_id: so.Mapped[int] = so.mapped_column()
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    source_id: so.Mapped[int] = so.mapped_column()
    public: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    text: so.Mapped[str] = so.mapped_column(sa.Text)


class SavedSearch(db.Model):
    """A search a user keeps (Plone's Collections): shown among their worklists with a count."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "name"),
        *max_lengths(name=NAME_MAX_LENGTH, query=QUERY_MAX_LENGTH),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    #: the search's parameters as a query string (q, facets, sort), normalised
    query: so.Mapped[str] = so.mapped_column(sa.String(1000))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
