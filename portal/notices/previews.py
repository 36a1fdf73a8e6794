"""The import preview kept on the server: store it, open it by its token, import it once.

The preview page used to send the whole notice back and forth through a hidden textarea,
which browsers return with CRLF line endings (a different text, so a second import). Now the
text stays in `notice_previews` and the confirmation carries only a random token and the
office's corrections. A database table (not process memory) works with several workers;
nothing runs in the background: an expired preview is refused when it is opened, and expired
rows are removed whenever a new preview is stored.

Storing a preview is audited ("notice.preview"): it keeps a user's upload on the server, and
every write goes through an operation that records its event in the same transaction. The
event holds the text's SHA-256 and size, not the text; the import that uses the preview names
it in its own event.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import User
from portal.audit.chain import Actor, record_event, utcnow
from portal.core.errors import Invalid
from portal.core.extensions import db
from portal.inspections.models import Inspection
from portal.notices.models import NoticePreview
from portal.notices.operations import import_notice, text_sha256
from portal.notices.parser import ParsedNotice

#: how long the office has between the preview and "Create the inspection"
PREVIEW_LIFETIME = timedelta(hours=1)


class PreviewUnavailable(Invalid):
    """The confirmation's preview cannot be used; `reason` says why.

    unknown (no such token, or it was altered), other_user (uploaded by someone else),
    expired, or used (already imported: `inspection` is what it created).
    """

    def __init__(self, reason: str, inspection: Inspection | None = None):
        messages = {
            "unknown": _("This preview was not found. Please upload the notice again."),
            "other_user": _(
                "This preview was uploaded by another account. Please upload the notice yourself."
            ),
            "expired": _(
                "This preview has expired (a preview is kept for %(minutes)d minutes). "
                "Please upload the notice again.",
                minutes=int(PREVIEW_LIFETIME.total_seconds() // 60),
            ),
            "used": _("This preview has already been imported."),
        }
        super().__init__(messages[reason])
        self.reason = reason
        self.inspection = inspection


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def store_preview(actor: Actor, user: User, text: str, filename: str | None = None) -> str:
    """Keep `text` (as uploaded) for `user`'s confirmation; return the token for the form."""
    now = utcnow()
    purged = db.session.execute(
        sa.delete(NoticePreview).where(NoticePreview.created_at < now - PREVIEW_LIFETIME)
    ).rowcount
    token = secrets.token_urlsafe(32)
    preview = NoticePreview(
        token_sha256=_token_sha256(token),
        user_id=user.id,
        source_text=text,
        source_sha256=text_sha256(text),
        filename=(filename or None) and filename[:255],
        created_at=now,
    )
    db.session.add(preview)
    db.session.flush()
    record_event(
        actor,
        "notice.preview",
        "notice_preview",
        preview.token_sha256,
        {
            "sha256": preview.source_sha256,
            "chars": len(text),
            "filename": preview.filename,
            "expired_removed": purged,
        },
    )
    return token


def open_preview(token: str | None, user: User) -> NoticePreview:
    """The preview behind `token`, if `user` may still use it; else PreviewUnavailable."""
    if not token or len(token) > 128:
        raise PreviewUnavailable("unknown")
    preview = db.session.get(NoticePreview, _token_sha256(token))
    if preview is None:
        raise PreviewUnavailable("unknown")
    if preview.user_id != user.id:
        raise PreviewUnavailable("other_user")
    if preview.used_at is not None:
        inspection = db.session.get(Inspection, preview.inspection_id) if preview.inspection_id else None
        raise PreviewUnavailable("used", inspection)
    if preview.created_at < utcnow() - PREVIEW_LIFETIME:
        raise PreviewUnavailable("expired")
    return preview


def import_preview(actor: Actor, preview: NoticePreview, parsed: ParsedNotice, **options) -> Inspection:
    """Import the previewed notice (`parsed`, with the office's corrections) and use the
    preview up, in one transaction.

    The preview is claimed first by a conditional UPDATE: of two confirmations racing with
    one token, one claims it and imports; the other finds it used (its transaction is rolled
    back by the caller) and is pointed to the inspection the first one created.
    """
    token_sha256, text = preview.token_sha256, preview.source_text
    claimed = db.session.execute(
        sa.update(NoticePreview)
        .where(NoticePreview.token_sha256 == token_sha256, NoticePreview.used_at.is_(None))
        .values(used_at=utcnow(), source_text=""),
        execution_options={"synchronize_session": False},
    ).rowcount
    if claimed != 1:
        inspection_id = db.session.scalar(
            sa.select(NoticePreview.inspection_id).where(NoticePreview.token_sha256 == token_sha256)
        )
        raise PreviewUnavailable("used", db.session.get(Inspection, inspection_id) if inspection_id else None)
    inspection = import_notice(actor, parsed, text, preview=token_sha256, **options)
    db.session.execute(
        sa.update(NoticePreview)
        .where(NoticePreview.token_sha256 == token_sha256)
        .values(inspection_id=inspection.id),
        execution_options={"synchronize_session": False},
    )
    return inspection
