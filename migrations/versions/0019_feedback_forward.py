"""Feedback forwarded (转办) to a responsible department, and when that department handled it.

Revision ID: 0019_feedback_forward
Revises: 0018_mail_outbox
Create Date: 2026-12-02

- ``feedback.forwarded_department_id``: the department the office forwarded the report to;
  its staff find it in the worklist of forwarded feedback until they mark it handled.
- ``feedback.forwarded_at`` / ``feedback.forward_handled_at``: when it was forwarded, handled.
- ``feedback.forward_note``: the office's words to the department (addressed to it: 财务科：…).
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_feedback_forward"
down_revision = "0018_mail_outbox"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forwarded_department_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("forwarded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("forward_handled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("forward_note", sa.Text(), server_default="", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_feedback_forwarded_department_id_departments"),
            "departments",
            ["forwarded_department_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index("ix_feedback_forwarded", ["forwarded_department_id", "forward_handled_at"])


def downgrade():
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_forwarded")
        batch_op.drop_constraint(
            batch_op.f("fk_feedback_forwarded_department_id_departments"), type_="foreignkey"
        )
        batch_op.drop_column("forward_note")
        batch_op.drop_column("forward_handled_at")
        batch_op.drop_column("forwarded_at")
        batch_op.drop_column("forwarded_department_id")
