"""The e-mail outbox: messages written with what they tell about, sent by the task queue.

Revision ID: 0018_mail_outbox
Revises: 0017_sign_in_security
Create Date: 2026-12-02

- ``mail_outbox``: one message to one address; ``next_attempt_at`` is when it may be tried (a
  claimed row's lease runs until then), ``attempts`` how often it was, ``sent_at`` when it went.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_mail_outbox"
down_revision = "0017_sign_in_security"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=300), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["sent_at", "next_attempt_at"])


def downgrade():
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")
