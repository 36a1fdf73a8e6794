"""Import previews kept on the server between the preview and the confirmation."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from portal.core.models import max_lengths
from portal.inspections.models import SOURCE_TEXT_MAX_LENGTH


class NoticePreview(db.Model):
    """An uploaded notice's text, waiting for the office to correct the preview and confirm.

    The browser holds only a random token; the table stores its SHA-256, never the token
    itself (as login sessions do). A preview belongs to the user who uploaded it, lives for
    `portal.notices.previews.PREVIEW_LIFETIME` and is used once: the import that uses it sets
    `used_at` and `inspection_id` and clears the text. Expired rows are removed when a new
    preview is stored.
    """

    __tablename__ = "notice_previews"
    __table_args__ = max_lengths(source_text=SOURCE_TEXT_MAX_LENGTH, filename=255)

    token_sha256: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the text as uploaded (decoded); emptied once the preview is used
    source_text: so.Mapped[str] = so.mapped_column(sa.Text)
    #: SHA-256 of the normalised text (portal.notices.operations.text_sha256)
    source_sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    filename: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime(), index=True)
    used_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
    inspection_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("inspections.id", ondelete="SET NULL")
    )
