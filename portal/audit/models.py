"""Audit event rows. The database refuses UPDATE and DELETE on them (see the migration)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db


class AuditEvent(db.Model):
    """审计事件: one link of the audit chain."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_object", "object_type", "object_id", "seq"),
        sa.Index("ix_audit_events_actor", "actor_id", "seq"),
        sa.Index("ix_audit_events_actor_name", "actor", "seq"),
        sa.Index("ix_audit_events_action", "action", "seq"),
        sa.Index("ix_audit_events_type", "object_type", "seq"),
        sa.Index("ix_audit_events_inspection", "inspection_id", "seq"),
        sa.Index("ix_audit_events_at", "at"),
    )

    seq: so.Mapped[int] = so.mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    # No foreign key: history must outlive whatever it talks about.
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    actor: so.Mapped[str] = so.mapped_column(sa.String(120))
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    object_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    object_id: so.Mapped[str] = so.mapped_column(sa.String(120))
    # The inspection (巡察轮次) the object belongs to, for filtering; hashed when present, so
    # events written before the column existed keep their hashes.
    inspection_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    payload: so.Mapped[str] = so.mapped_column(sa.Text)
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.action} {self.object_type}:{self.object_id}>"
