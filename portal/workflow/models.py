"""Workflow history entries and approvals."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db


class WorkflowHistory(db.Model):
    """One successful transition (Plone's review history entry)."""

    __tablename__ = "workflow_history"
    __table_args__ = (sa.Index("ix_workflow_history_object", "object_type", "object_id", "id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    object_type: so.Mapped[str] = so.mapped_column(sa.String(20))
    object_id: so.Mapped[int]
    workflow: so.Mapped[str] = so.mapped_column(sa.String(32))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    from_state: so.Mapped[str] = so.mapped_column(sa.String(32))
    to_state: so.Mapped[str] = so.mapped_column(sa.String(32))
    at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    evidence_ids: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)

    actor = so.relationship("User")


class Approval(db.Model):
    """One leader's approval of a submitted item; `return` and `reopen` clear the open ones."""

    __tablename__ = "approvals"
    __table_args__ = (
        # One open approval per person and item: the same person cannot approve twice.
        sa.Index("uq_approvals_open", "item_id", "user_id", unique=True,
                 sqlite_where=sa.text("cleared_at IS NULL"),
                 postgresql_where=sa.text("cleared_at IS NULL")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"),
                                               index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    approved_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    cleared_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())

    user = so.relationship("User")
