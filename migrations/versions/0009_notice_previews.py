"""Notice import: server-side previews, and source hashes over normalised text.

Revision ID: 0009_notice_previews
Revises: 0008_feedback_version
Create Date: 2026-12-02

- ``notice_previews`` keeps an uploaded notice's text on the server between the preview and
  the confirmation, under a short-lived random token (the table stores the token's SHA-256,
  never the token itself), tied to the user who uploaded it; a used preview keeps the
  inspection it created (so a second click is pointed there) and loses its text.
- ``inspections.source_sha256`` is now taken over normalised text (CRLF and CR become LF,
  NFKC, trailing whitespace trimmed per line and at the end). Existing imports are rehashed
  from their stored ``source_text`` so that a re-import of the same notice is still found.
  The normalisation is a frozen copy here: a migration must not import application code
  that may change after it.
"""

import hashlib
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0009_notice_previews"
down_revision = "0008_feedback_version"
branch_labels = None
depends_on = None


def _normalised_sha256(text):
    # Frozen copy of portal.notices.text.normalise_source as of this revision.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = text.strip()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _old_sha256(text):
    # The hash before this revision: over the text with surrounding whitespace stripped.
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def _rehash(digest):
    inspections = sa.table(
        "inspections",
        sa.column("id", sa.Integer),
        sa.column("source_text", sa.Text),
        sa.column("source_sha256", sa.String(64)),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(inspections.c.id, inspections.c.source_text).where(inspections.c.source_sha256.is_not(None))
    ).all()
    for row in rows:
        bind.execute(
            inspections.update()
            .where(inspections.c.id == row.id)
            .values(source_sha256=digest(row.source_text or ""))
        )


def upgrade():
    op.create_table(
        "notice_previews",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notice_previews_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_notice_previews_inspection_id_inspections"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_notice_previews")),
    )
    op.create_index(op.f("ix_notice_previews_user_id"), "notice_previews", ["user_id"])
    op.create_index(op.f("ix_notice_previews_created_at"), "notice_previews", ["created_at"])
    _rehash(_normalised_sha256)


def downgrade():
    _rehash(_old_sha256)
    op.drop_index(op.f("ix_notice_previews_created_at"), table_name="notice_previews")
    op.drop_index(op.f("ix_notice_previews_user_id"), table_name="notice_previews")
    op.drop_table("notice_previews")
