"""Deadline extension requests (延期申请): the extension workflow's content type.

Revision ID: 0012_extensions
Revises: 0011_deadline_levels
Create Date: 2026-12-03

- ``extension_requests``: one row per request to extend an item's deadline, filed by the
  item's staff, approved by the item's responsible leader and then by the office
  (``extension_state``: requested | leader_approved | approved | rejected | withdrawn).
  ``old_deadline`` is the deadline it extends, ``proposed_deadline`` must be later;
  ``inspection_id`` is the item's, for the audit log's filter and the suspension check.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_extensions"
down_revision = "0011_deadline_levels"
branch_labels = None
depends_on = None

STATES = ("requested", "leader_approved", "approved", "rejected", "withdrawn")


def upgrade():
    op.create_table(
        "extension_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("progress_note", sa.Text(), server_default="", nullable=False),
        sa.Column("old_deadline", sa.Date(), nullable=False),
        sa.Column("proposed_deadline", sa.Date(), nullable=False),
        sa.Column("extension_state", sa.String(length=32), server_default="requested", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "proposed_deadline > old_deadline", name=op.f("ck_extension_requests_later_deadline")
        ),
        sa.CheckConstraint(
            sa.column("extension_state").in_(STATES), name=op.f("ck_extension_requests_known_extension_state")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_extension_requests_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_extension_requests_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_extension_requests_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extension_requests")),
    )
    with op.batch_alter_table("extension_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_extension_requests_item_id"), ["item_id"], unique=False)
        batch_op.create_index("ix_extension_requests_state", ["extension_state", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("extension_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_extension_requests_state")
        batch_op.drop_index(batch_op.f("ix_extension_requests_item_id"))
    op.drop_table("extension_requests")
