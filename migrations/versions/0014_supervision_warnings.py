"""Warnings of the supervision pass (督办单 / 预警函): one per (item, level, deadline).

Revision ID: 0014_supervision_warnings
Revises: 0013_notifications
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_supervision_warnings"
down_revision = "0013_notifications"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "supervision_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("pass_day", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "level IN ('remind', 'warn', 'supervise', 'interview')",
            name=op.f("ck_supervision_warnings_known_level"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_supervision_warnings_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_warnings")),
        sa.UniqueConstraint("item_id", "level", "deadline", name="uq_supervision_warnings_once"),
    )
    with op.batch_alter_table("supervision_warnings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_warnings_item_id"), ["item_id"], unique=False)


def downgrade():
    with op.batch_alter_table("supervision_warnings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_warnings_item_id"))
    op.drop_table("supervision_warnings")
