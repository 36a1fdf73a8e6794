"""延期申请: one request to move an item's deadline, governed by the extension workflow."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.content import DerivedRole
from portal.core.extensions import db
from portal.core.models import max_lengths
from workflows import EXTENSION
from workflows.extension import OPEN

#: Length limits of a request's texts (the form's, the database's).
REASON_MAX_LENGTH = 2000
PROGRESS_NOTE_MAX_LENGTH = 4000


class ExtensionRequest(db.Model):
    """延期申请: filed by the item's staff before its deadline, with a reason, a later date
    and the progress so far; approved by the responsible leader, then by the office."""

    __tablename__ = "extension_requests"
    __workflows__ = (EXTENSION,)
    # A withdrawn item, or an item of a withdrawn inspection, suspends its requests too.
    __suspended_via__ = ("item", "inspection")
    __derived_roles__ = (
        DerivedRole(("Editor",), "staff_id", via="item"),  # the item's responsible staff (主办人)
        DerivedRole(("ResponsibleLeader",), "responsible_leader_id", via="item"),  # 分管领导
        DerivedRole(("Requester",), "requested_by_id"),
    )
    __worklist_template__ = "deadlines/worklist.html"
    __worklist_row__ = "deadlines/_worklist_row.html"
    __worklist_load__ = ("item",)
    __table_args__ = (
        sa.CheckConstraint("proposed_deadline > old_deadline", name="later_deadline"),
        sa.CheckConstraint(
            sa.column("extension_state").in_([s.id for s in EXTENSION.states]), name="known_extension_state"
        ),
        sa.Index("ix_extension_requests_state", "extension_state", "id"),
        *max_lengths(reason=REASON_MAX_LENGTH, progress_note=PROGRESS_NOTE_MAX_LENGTH),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)
    #: the item's inspection, kept for the audit log's filter and the suspension check
    inspection_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("inspections.id", ondelete="CASCADE"))
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    #: 目前进展: what has been done so far
    progress_note: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    #: the deadline this request extends (the item's when it was filed)
    old_deadline: so.Mapped[date] = so.mapped_column(sa.Date)
    proposed_deadline: so.Mapped[date] = so.mapped_column(sa.Date)
    extension_state: so.Mapped[str] = so.mapped_column(
        sa.String(32), default=EXTENSION.initial, server_default=EXTENSION.initial
    )
    #: incremented by every step, which updates conditionally on it
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())

    item = so.relationship("RectificationItem")
    inspection = so.relationship("Inspection")
    requested_by = so.relationship("User")

    @property
    def is_open(self) -> bool:
        return self.extension_state in OPEN
