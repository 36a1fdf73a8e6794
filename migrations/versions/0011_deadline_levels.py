"""Deadline levels (三色): per-inspection thresholds and the follow-up interval.

Revision ID: 0011_deadline_levels
Revises: 0010_withdrawal_measure_status
Create Date: 2026-12-02

- ``remind_days`` (提醒: this many days or fewer left, default 20) and ``warn_days``
  (预警, default 10, fewer than ``remind_days``).
- ``interview_days`` (约谈: this many days or more overdue, default 15; 督办 = overdue).
- ``follow_up_months`` (回头看 interval, default 6).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_deadline_levels"
down_revision = "0010_withdrawal_measure_status"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind_days", sa.Integer(), server_default="20", nullable=False))
        batch_op.add_column(sa.Column("warn_days", sa.Integer(), server_default="10", nullable=False))
        batch_op.add_column(sa.Column("interview_days", sa.Integer(), server_default="15", nullable=False))
        batch_op.add_column(sa.Column("follow_up_months", sa.Integer(), server_default="6", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_inspections_deadline_thresholds"),
            sa.and_(
                sa.column("warn_days") >= 0,
                sa.column("warn_days") < sa.column("remind_days"),
                sa.column("interview_days") >= 1,
                sa.column("follow_up_months") >= 1,
            ),
        )


def downgrade():
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_inspections_deadline_thresholds"), type_="check")
        batch_op.drop_column("follow_up_months")
        batch_op.drop_column("interview_days")
        batch_op.drop_column("warn_days")
        batch_op.drop_column("remind_days")
