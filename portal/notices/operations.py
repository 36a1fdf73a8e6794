"""Importing a parsed notice as an inspection with its categories, items and measures."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import User
from portal.audit.chain import Actor, record_event
from portal.core.errors import OperationError
from portal.core.extensions import db
from portal.inspections.models import APPROVAL_SINGLE, Inspection
from portal.inspections.operations import create_category, create_inspection, create_item
from portal.notices.parser import ParsedNotice
from portal.notices.text import normalise_source


class AlreadyImported(OperationError):
    def __init__(self, inspection: Inspection):
        super().__init__(_("This notice was already imported as “%(title)s”.", title=inspection.title))
        self.inspection = inspection


def text_sha256(text: str) -> str:
    """The SHA-256 a notice is known by: over its normalised text (see `normalise_source`)."""
    return hashlib.sha256(normalise_source(text).encode("utf-8")).hexdigest()


def find_imported(text: str) -> Inspection | None:
    """The inspection imported from the same notice (line endings, width, trailing spaces aside)."""
    return find_imported_sha256(text_sha256(text))


def find_imported_sha256(sha256: str) -> Inspection | None:
    return db.session.scalar(
        sa.select(Inspection).where(Inspection.source_sha256 == sha256).order_by(Inspection.id).limit(1)
    )


def _user(user_id: int | None):

    return db.session.get(User, user_id) if user_id else None


def import_notice(
    actor: Actor,
    parsed: ParsedNotice,
    source_text: str,
    *,
    approval_policy: str = APPROVAL_SINGLE,
    party_secretary=None,
    preview: str | None = None,
) -> Inspection:
    """Create the inspection described by `parsed`; refuse a text imported before.

    `source_text` is stored as it was uploaded (it is the record); its hash is taken over the
    normalised text, so the same notice with other line endings is refused too. `preview`
    names the server-side preview the import came from (its token's SHA-256), for the log.
    """
    existing = find_imported(source_text)
    if existing is not None:
        raise AlreadyImported(existing)
    inspection = create_inspection(
        actor,
        title=parsed.title or _("Imported notice"),
        inspected_unit=parsed.inspected_unit,
        inspection_team=parsed.inspection_team,
        start_date=parsed.inspection_start,
        end_date=parsed.inspection_end,
        feedback_date=parsed.feedback_date,
        contact_phone=parsed.contact_phone,
        contact_address=parsed.contact_address,
        contact_email=parsed.contact_email,
        source_text=source_text,
        approval_policy=approval_policy,
        party_secretary=party_secretary,
    )
    inspection.source_sha256 = text_sha256(source_text)
    items = 0
    for position, parsed_category in enumerate(parsed.categories):
        category = None
        if parsed_category.label or parsed_category.title:
            category = create_category(
                actor, inspection, label=parsed_category.label, title=parsed_category.title, position=position
            )
        for problem in parsed_category.problems:
            create_item(
                actor,
                inspection,
                category=category,
                number=problem.number,
                title=problem.title,
                feedback_text=problem.text,
                deadline=problem.deadline,
                money_to_recover=problem.money_to_recover,
                responsible_leader=_user(problem.leader_id),
                staff=_user(problem.staff_id),
                measures=[(m.label, m.text, m.deadline) for m in problem.measures],
            )
            items += 1
    db.session.flush()
    payload = {
        "sha256": inspection.source_sha256,
        "items": items,
        "warnings": [str(w) for w in parsed.warnings],
    }
    if preview:
        payload["preview"] = preview
    record_event(actor, "notice.import", "inspection", inspection.id, payload, inspection_id=inspection.id)
    return inspection
