"""Approvals of submitted items (the history of every workflow is portal.core.models)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db


class Approval(db.Model):
    """One leader's approval of a submitted item; `return` and `reopen` clear the open ones."""

    __tablename__ = "approvals"
    __table_args__ = (
        # One open approval per person and item: the same person cannot approve twice.
        sa.Index(
            "uq_approvals_open",
            "item_id",
            "user_id",
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    approved_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    cleared_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())

    user = so.relationship("User")
