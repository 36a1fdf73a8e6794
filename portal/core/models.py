"""The models the policy and the transition pipeline stand on.

- LocalRole: a local role granted on an inspection, category or item, to a user or a whole
  department (Plone's Sharing tab; managed by portal.sharing).
- WorkflowHistory: one successful transition of any workflow (Plone's review history).
- OutgoingMail: one e-mail waiting for the task queue to send it (the outbox; portal.core.mail).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from workflows.roles import LOCAL_ROLES

#: What local roles can be granted on (the models' `__sharing_type__`).
OBJECT_TYPES = ("inspection", "category", "item")
#: A transition's comment (the transition form's limit).
COMMENT_MAX_LENGTH = 4000


def max_lengths(**limits: int) -> tuple[sa.CheckConstraint, ...]:
    """CHECK (length(column) <= limit) for each column, named ck_<table>_<column>_length.

    The database's own guard on free text: SQLite ignores the n of VARCHAR(n), a CHECK holds on
    SQLite and PostgreSQL alike (both count characters). Forms and imports check first, with a
    message; a write that slips past them is refused here rather than stored.
    """
    return tuple(
        sa.CheckConstraint(sa.func.length(sa.column(column)) <= limit, name=f"{column}_length")
        for column, limit in limits.items()
    )


class LocalRole(db.Model):
    """A local role held by one user or by every member of one department on one object."""

    __tablename__ = "local_roles"
    __table_args__ = (
        sa.CheckConstraint(sa.column("role").in_(LOCAL_ROLES), name="known_role"),
        sa.CheckConstraint(sa.column("object_type").in_(OBJECT_TYPES), name="known_object_type"),
        sa.CheckConstraint("(user_id IS NULL) <> (department_id IS NULL)", name="one_principal"),
        sa.Index("ix_local_roles_object", "object_type", "object_id"),
        sa.Index("ix_local_roles_user", "user_id"),
        sa.Index("ix_local_roles_department", "department_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    object_type: so.Mapped[str] = so.mapped_column(sa.String(20))
    object_id: so.Mapped[int]
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    department_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE")
    )
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    granted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    granted_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())

    user = so.relationship("User", foreign_keys=[user_id])
    department = so.relationship("Department")


class WorkflowHistory(db.Model):
    """One successful transition (Plone's review history entry)."""

    __tablename__ = "workflow_history"
    __table_args__ = (
        sa.Index("ix_workflow_history_object", "object_type", "object_id", "id"),
        *max_lengths(comment=COMMENT_MAX_LENGTH),
    )

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


class OutgoingMail(db.Model):
    """One e-mail to one address, written in the transaction of what it tells about, sent by
    the task queue afterwards (a transactional outbox: a rolled-back write sends nothing, and a
    mail server or queue that is away delays the mail, never loses it)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_due", "sent_at", "next_attempt_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recipient: so.Mapped[str] = so.mapped_column(sa.String(320))
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    #: when the next attempt may start; a claimed row's lease runs until then
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    attempts: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    sent_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
    last_error: so.Mapped[str] = so.mapped_column(sa.String(300), default="", server_default="")
