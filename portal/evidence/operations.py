"""Adding and withdrawing evidence (佐证材料)."""

from __future__ import annotations

from typing import BinaryIO

from flask_babel import gettext as _

from portal.audit.chain import Actor, record_event, utcnow
from portal.core.errors import Invalid, OperationError
from portal.core.extensions import db
from portal.core.forms import CONTROL_MESSAGE, blank, control_characters, length_message
from portal.core.transitions import run_after_rollback
from portal.evidence.filetypes import CONTENT_TYPES, content_matches, extension
from portal.evidence.models import FILENAME_MAX_LENGTH, NOTE_MAX_LENGTH, Evidence
from portal.evidence.storage import FileStore

#: The longest extension kept when a long file name is shortened (.docx, .jpeg …).
EXTENSION_MAX_LENGTH = 10

#: Once an item is submitted its evidence is part of what was reviewed and cannot be withdrawn.
SUBMITTED_STATES = ("pending_review", "completed", "follow_up")


def _checked_note(note: str | None) -> str:
    """The note as stored (trimmed); Invalid if it cannot be."""
    note = (note or "").strip()
    if control_characters(note):
        raise Invalid(str(CONTROL_MESSAGE))
    if len(note) > NOTE_MAX_LENGTH:
        raise Invalid(length_message(NOTE_MAX_LENGTH, len(note)))
    return note


def add_evidence_note(actor: Actor, item, note: str, public: bool = False) -> Evidence:
    """Attach a note or link as evidence; a note of nothing but white space is none."""
    if blank(note):
        raise Invalid(_("Choose a file or write a note."))
    note = _checked_note(note)
    evidence = Evidence(item_id=item.id, note=note, added_by_id=actor.id, added_at=utcnow(), public=public)
    db.session.add(evidence)
    db.session.flush()
    record_event(
        actor,
        "evidence.add",
        "item",
        item.id,
        {"evidence_id": evidence.id, "note": evidence.note, "public": public},
        inspection_id=item.inspection_id,
    )
    return evidence


def safe_filename(name: str) -> str:
    """Keep the user's name (Chinese included) but never a path or control characters; a name
    longer than FILENAME_MAX_LENGTH is shortened before its extension, which stays."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    if len(name) <= FILENAME_MAX_LENGTH:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > EXTENSION_MAX_LENGTH:
        return name[:FILENAME_MAX_LENGTH]
    return stem[: FILENAME_MAX_LENGTH - len(ext) - 1].rstrip() + "." + ext


def add_evidence_file(
    actor: Actor,
    item,
    store: FileStore,
    stream: BinaryIO,
    filename: str,
    allowed: tuple[str, ...],
    note: str = "",
    public: bool = False,
) -> Evidence:
    """Check and store an uploaded file; record its SHA-256 and original name."""
    note = _checked_note(note)
    name = safe_filename(filename)
    ext = extension(name)
    if not name or ext not in allowed:
        raise OperationError(
            _("Files of this type are not accepted. Allowed: %(types)s.", types=", ".join(allowed))
        )
    stream.seek(0, 2)
    if stream.tell() == 0:
        raise OperationError(_("The file “%(name)s” is empty.", name=name))
    stream.seek(0)
    if not content_matches(ext, stream):
        raise OperationError(_("The content of “%(name)s” is not a .%(ext)s file.", name=name, ext=ext))
    key, sha256, size = store.store(stream)
    run_after_rollback(lambda: store.delete(key))  # no file is left without its row
    evidence = Evidence(
        item_id=item.id,
        note=note,
        filename=name,
        storage_key=key,
        sha256=sha256,
        size=size,
        content_type=CONTENT_TYPES[ext],
        added_by_id=actor.id,
        added_at=utcnow(),
        public=public,
    )
    db.session.add(evidence)
    db.session.flush()
    record_event(
        actor,
        "evidence.add",
        "item",
        item.id,
        {
            "evidence_id": evidence.id,
            "filename": name,
            "sha256": sha256,
            "size": size,
            "note": evidence.note,
            "public": public,
        },
        inspection_id=item.inspection_id,
    )
    return evidence


def withdraw_evidence(actor: Actor, evidence: Evidence, item) -> None:
    """Withdraw a piece before submission; it stays in the history, marked."""
    if item.state in SUBMITTED_STATES:
        raise OperationError(_("Evidence cannot be withdrawn once the item has been submitted."))
    if evidence.withdrawn_at is not None:
        return
    evidence.withdrawn_at, evidence.withdrawn_by_id = utcnow(), actor.id
    db.session.flush()
    record_event(
        actor,
        "evidence.withdraw",
        "item",
        item.id,
        {"evidence_id": evidence.id, "filename": evidence.filename, "sha256": evidence.sha256},
        inspection_id=item.inspection_id,
    )
