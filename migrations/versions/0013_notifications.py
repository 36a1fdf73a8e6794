"""In-app notifications, the e-mail preference and chase notes (催办).

Revision ID: 0013_notifications
Revises: 0012_extensions
Create Date: 2026-12-04

- ``notifications``: one row per recipient and event (``kind``: assigned, returned, …); the
  message's parameters are stored as JSON so that the text is rendered in the reader's
  language when it is read. ``read_at`` is empty while it is unread.
- ``users.email_notifications``: whether the user also wants notifications by e-mail (default
  yes; mail goes out only where SMTP is configured).
- ``item_chases``: a chase note (催办) sent on an item by the office or a leader; required text.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_notifications"
down_revision = "0012_extensions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_notifications", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "item_chases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("text <> ''", name=op.f("ck_item_chases_text_given")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_chases_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_item_chases_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_chases")),
    )
    with op.batch_alter_table("item_chases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_chases_item_id"), ["item_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("object_type", sa.String(length=32), server_default="", nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_notifications_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_notifications_actor_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_unread", ["user_id", "read_at"], unique=False)
        batch_op.create_index("ix_notifications_user_newest", ["user_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_newest")
        batch_op.drop_index("ix_notifications_user_unread")
    op.drop_table("notifications")
    with op.batch_alter_table("item_chases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_chases_item_id"))
    op.drop_table("item_chases")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_notifications")
