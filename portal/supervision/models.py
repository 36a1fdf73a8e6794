"""Warnings (督办单 / 预警函): one per (item, level, deadline), issued by the supervision pass."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db

#: The levels a warning is issued at (the "none" level never is).
WARNING_LEVELS = ("remind", "warn", "supervise", "interview")


class SupervisionWarning(db.Model):
    """A warning issued to an item's circle at one deadline level; never issued twice for the
    same deadline (the unique key is what makes concurrent passes safe)."""

    __tablename__ = "supervision_warnings"
    __table_args__ = (
        sa.UniqueConstraint("item_id", "level", "deadline", name="uq_supervision_warnings_once"),
        sa.CheckConstraint(sa.column("level").in_(WARNING_LEVELS), name="known_level"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)
    level: so.Mapped[str] = so.mapped_column(sa.String(20))
    #: the deadline the warning is about (an extension starts the levels afresh)
    deadline: so.Mapped[date] = so.mapped_column(sa.Date)
    issued_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    #: the day the pass ran for (its `--today`)
    pass_day: so.Mapped[date] = so.mapped_column(sa.Date)

    item = so.relationship("RectificationItem")
