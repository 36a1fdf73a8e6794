"""佐证材料: a note or link now; files arrive with the documents issue."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db


class Evidence(db.Model):
    """One piece of evidence on an item. Withdrawn pieces stay, marked, for the history."""

    __tablename__ = "evidence"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"),
                                               index=True)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    added_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    added_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
