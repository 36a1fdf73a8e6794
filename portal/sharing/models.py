"""Local role grants on an inspection, category or item, to a user or a whole department."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from workflows.roles import LOCAL_ROLES

OBJECT_TYPES = ("inspection", "category", "item")


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
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id",
                                                                    ondelete="CASCADE"))
    department_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE"))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    granted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    granted_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())

    user = so.relationship("User", foreign_keys=[user_id])
    department = so.relationship("Department")
