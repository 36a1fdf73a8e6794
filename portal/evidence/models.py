"""佐证材料: an uploaded file or a note/link on an item."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from portal.core.models import max_lengths

#: A note's length limit; a file's name is shortened to FILENAME_MAX_LENGTH, its extension kept.
NOTE_MAX_LENGTH = 4000
FILENAME_MAX_LENGTH = 200


class Evidence(db.Model):
    """One piece of evidence on an item. Withdrawn pieces stay, marked, for the history.

    Files live in the evidence store under `storage_key` (a random id); the original name,
    Chinese included, is kept here only.
    """

    __tablename__ = "evidence"
    __table_args__ = max_lengths(note=NOTE_MAX_LENGTH, filename=FILENAME_MAX_LENGTH)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    filename: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    storage_key: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    sha256: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    size: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    content_type: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    public: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    added_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    added_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
    withdrawn_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    added_by = so.relationship("User", foreign_keys=[added_by_id])
    withdrawn_by = so.relationship("User", foreign_keys=[withdrawn_by_id])

    @property
    def is_file(self) -> bool:
        return self.storage_key is not None
