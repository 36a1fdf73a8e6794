"""One piece of public feedback on an inspection or an item."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from portal.core.models import max_lengths
from workflows import MODERATION

KINDS = ("suggestion", "clue", "not_rectified")  # 意见建议 / 问题线索 / 整改不到位反映
#: Length limits (the forms', the database's).
TEXT_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 60
PHONE_MAX_LENGTH = 30
EMAIL_MAX_LENGTH = 254
REPLY_MAX_LENGTH = 4000
FIX_COMMENT_MAX_LENGTH = 500


class Feedback(db.Model):
    """意见建议. Contact details are private: only the office and auditors see them."""

    __tablename__ = "feedback"
    __workflows__ = (MODERATION,)
    # Its worklists' pages (the office's queue to moderate, a department's forwarded reports);
    # the office moderates on the full queue (/feedback/), which the first one links to.
    __worklist_template__ = "feedback/worklist.html"
    __worklist_row__ = "feedback/_worklist_row.html"
    __worklist_load__ = ("item", "inspection", "forwarded_department")
    __table_args__ = (
        sa.CheckConstraint(sa.column("kind").in_(KINDS), name="known_kind"),
        sa.Index("ix_feedback_state", "moderation_state", "id"),
        sa.Index("ix_feedback_forwarded", "forwarded_department_id", "forward_handled_at"),
        *max_lengths(
            text=TEXT_MAX_LENGTH,
            original_text=TEXT_MAX_LENGTH,
            name=NAME_MAX_LENGTH,
            phone=PHONE_MAX_LENGTH,
            email=EMAIL_MAX_LENGTH,
            reply=REPLY_MAX_LENGTH,
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    inspection_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    item_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(20))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    #: what the submitter wrote, kept for auditors when the office edits `text`
    original_text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    name: so.Mapped[str] = so.mapped_column(sa.String(60), default="", server_default="")
    phone: so.Mapped[str] = so.mapped_column(sa.String(30), default="", server_default="")
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="", server_default="")
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    moderation_state: so.Mapped[str] = so.mapped_column(
        sa.String(20), default="pending", server_default="pending"
    )
    reply: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    replied_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
    #: incremented by every moderation step, which updates conditionally on it
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    #: 转办: the department the office forwarded this report to, when, and when it was handled
    forwarded_department_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("departments.id", ondelete="RESTRICT")
    )
    forwarded_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
    forward_handled_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
    #: the office's words to the department, addressed to it (财务科：请核实…)
    forward_note: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")

    inspection = so.relationship("Inspection")
    item = so.relationship("RectificationItem")
    forwarded_department = so.relationship("Department")

    #: Not stored: the department a forwarding being fired names (see operations.forward_feedback).
    forward_to_department_id = None


FIX_ANSWERS = ("fixed", "not_fixed", "partly")


class FixCheck(db.Model):
    """“真的改好了吗?”: one member of the public's answer on a completed item (kept internal)."""

    __tablename__ = "fix_checks"
    __table_args__ = (
        sa.CheckConstraint(sa.column("answer").in_(FIX_ANSWERS), name="known_answer"),
        sa.Index("ix_fix_checks_item", "item_id", "answer", "created_at"),
        *max_lengths(comment=FIX_COMMENT_MAX_LENGTH),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"))
    answer: so.Mapped[str] = so.mapped_column(sa.String(12))
    comment: so.Mapped[str] = so.mapped_column(sa.String(500), default="", server_default="")
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
