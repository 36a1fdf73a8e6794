"""Adding evidence to an item."""

from __future__ import annotations

from portal.audit.chain import Actor, record_event, utcnow
from portal.evidence.models import Evidence
from portal.extensions import db


def add_evidence_note(actor: Actor, item, note: str) -> Evidence:
    """Attach a note or link as evidence (佐证材料)."""
    evidence = Evidence(item_id=item.id, note=note.strip(), added_by_id=actor.id,
                        added_at=utcnow())
    db.session.add(evidence)
    db.session.flush()
    record_event(actor, "evidence.add", "item", item.id, {"evidence_id": evidence.id,
                                                         "note": evidence.note})
    return evidence
