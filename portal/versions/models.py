"""One stored snapshot of a document's editable fields."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from portal.core.models import max_lengths

#: A change note's length limit (the forms', the database's).
NOTE_MAX_LENGTH = 500


class DocumentVersion(db.Model):
    """Version `number` of one inspection, category, item or measure."""

    __tablename__ = "document_versions"
    __table_args__ = (
        sa.UniqueConstraint("object_type", "object_id", "number", name="uq_document_versions_number"),
        *max_lengths(note=NOTE_MAX_LENGTH),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    object_type: so.Mapped[str] = so.mapped_column(sa.String(20))
    object_id: so.Mapped[int]
    number: so.Mapped[int]
    data: so.Mapped[dict] = so.mapped_column(sa.JSON)
    note: so.Mapped[str] = so.mapped_column(sa.String(NOTE_MAX_LENGTH), default="", server_default="")
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    reverted_from: so.Mapped[int | None] = so.mapped_column()

    actor = so.relationship("User")
