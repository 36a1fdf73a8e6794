"""In-app notifications (站内通知) and chase notes (催办) on items."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from portal.core.models import max_lengths

#: The longest chase note, in characters (the form says so too).
CHASE_MAX_LENGTH = 500


class Notification(db.Model):
    """One message to one user. Its text is rendered from `kind` and `params` when it is read,
    in the reader's language (see portal.notifications.kinds)."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
        sa.Index("ix_notifications_user_newest", "user_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    item_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"))
    #: another object the message is about (a chase note, an extension request …)
    object_type: so.Mapped[str] = so.mapped_column(sa.String(32), default="", server_default="")
    object_id: so.Mapped[int | None]
    #: who caused it (none for the supervision pass and the public)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    read_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())

    item = so.relationship("RectificationItem")
    actor = so.relationship("User", foreign_keys=[actor_id])

    @property
    def unread(self) -> bool:
        return self.read_at is None


class ItemChase(db.Model):
    """催办: a chase note the office or a leader sends on an item; shown in its timeline."""

    __tablename__ = "item_chases"
    __table_args__ = (
        sa.CheckConstraint("text <> ''", name="text_given"),
        *max_lengths(text=CHASE_MAX_LENGTH),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())

    actor = so.relationship("User")
