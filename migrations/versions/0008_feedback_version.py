"""Feedback moderation updates conditionally on a version, as item transitions do.

Revision ID: 0008_feedback_version
Revises: 0007_audit_filters
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_feedback_version"
down_revision = "0007_audit_filters"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("version")
