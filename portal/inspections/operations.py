"""Operations on the documents: create and edit inspections, categories, items and measures.

Every edit stores a version (portal.versions) and an audit event; item edits also claim the
item's version number, so that an edit based on a stale page is a conflict, not a lost update.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.audit.chain import Actor, inspection_id_of, record_event, utcnow
from portal.core.concurrency import claim_version
from portal.core.extensions import db
from portal.inspections.models import (
    APPROVAL_SINGLE,
    Category,
    Inspection,
    Measure,
    RectificationItem,
)
from portal.versions.operations import apply_changes, record_version, snapshot


def _created(
    actor: Actor, obj, kind: str, extra: dict | None = None, inspection_id: int | None = None
) -> None:
    db.session.add(obj)
    db.session.flush()
    record_version(actor, obj, "", first=True)
    record_event(
        actor,
        f"{kind}.create",
        kind,
        obj.id,
        {**snapshot(obj), **(extra or {})},
        inspection_id=inspection_id or inspection_id_of(obj),
    )


def create_inspection(
    actor: Actor,
    *,
    title: str,
    inspected_unit: str = "",
    inspection_team: str = "",
    approval_policy: str = APPROVAL_SINGLE,
    party_secretary=None,
    start_date: date | None = None,
    end_date: date | None = None,
    feedback_date: date | None = None,
    contact_phone: str = "",
    contact_address: str = "",
    contact_email: str = "",
    source_text: str = "",
) -> Inspection:
    """Create a 巡察轮次."""
    inspection = Inspection(
        title=title.strip(),
        inspected_unit=inspected_unit,
        inspection_team=inspection_team,
        approval_policy=approval_policy,
        party_secretary=party_secretary,
        start_date=start_date,
        end_date=end_date,
        feedback_date=feedback_date,
        contact_phone=contact_phone,
        contact_address=contact_address,
        contact_email=contact_email,
        source_text=source_text,
        created_at=utcnow(),
    )
    _created(actor, inspection, "inspection")
    return inspection


def create_category(
    actor: Actor, inspection: Inspection, *, label: str, title: str, position: int = 0
) -> Category:
    category = Category(inspection=inspection, label=label, title=title.strip(), position=position)
    _created(actor, category, "category", {"inspection_id": inspection.id})
    return category


def create_item(
    actor: Actor,
    inspection: Inspection,
    *,
    title: str,
    category: Category | None = None,
    number: str = "",
    feedback_text: str = "",
    responsible_leader=None,
    staff=None,
    department=None,
    deadline: date | None = None,
    completion_summary: str = "",
    money_to_recover: Decimal | None = None,
    public_summary: str = "",
    progress_override: int | None = None,
    measures: list[tuple[str, str, date | None]] = (),
) -> RectificationItem:
    """Create an item in the workflows' initial states (assigned, private), with its measures
    (label as written, text, deadline)."""
    item = RectificationItem(
        inspection=inspection,
        category=category,
        number=number,
        title=title.strip(),
        feedback_text=feedback_text,
        responsible_leader=responsible_leader,
        staff=staff,
        department=department,
        deadline=deadline,
        completion_summary=completion_summary,
        money_to_recover=money_to_recover,
        public_summary=public_summary,
        progress_override=progress_override,
        created_at=utcnow(),
    )
    _created(
        actor,
        item,
        "item",
        {"inspection_id": inspection.id, "state": item.state, "publication_state": item.publication_state},
    )
    rows = [
        Measure(item_id=item.id, label=label.strip(), text=text.strip(), deadline=deadline, position=position)
        for position, (label, text, deadline) in enumerate(measures, start=1)
    ]
    db.session.add_all(rows)
    db.session.flush()  # one flush for all the measures' ids
    for measure in rows:
        record_version(actor, measure, "", first=True)
        record_event(
            actor,
            "measure.create",
            "measure",
            measure.id,
            {**snapshot(measure), "item_id": item.id},
            inspection_id=item.inspection_id,
        )
    return item


def update_document(
    actor: Actor, obj, values: dict, note: str = "", expected_version: int | None = None
) -> dict:
    """Edit an inspection, category, item or measure; return the changed fields.

    For items, `expected_version` is the version the user's form was built from.
    """
    item = obj if isinstance(obj, RectificationItem) else getattr(obj, "item", None)
    if item is not None:
        claim_version(item, item.version if expected_version is None else expected_version)
    return apply_changes(actor, obj, values, note)


def add_measure(
    actor: Actor, item: RectificationItem, *, label: str, text: str, deadline: date | None = None
) -> Measure:
    """Add a 整改措施 after the existing ones; its label is kept as given."""
    position = 1 + max((m.position for m in item.measures), default=0)
    claim_version(item, item.version)
    measure = Measure(
        item_id=item.id, label=label.strip(), text=text.strip(), deadline=deadline, position=position
    )
    _created(actor, measure, "measure", {"item_id": item.id}, inspection_id=item.inspection_id)
    db.session.expire(item, ["version", "measures"])
    return measure


def set_measure_done(actor: Actor, measure: Measure, done: bool) -> None:
    """Tick or untick a measure (progress, not content: audited, not versioned)."""
    if measure.done == done:
        return
    claim_version(measure.item, measure.item.version)
    db.session.expire(measure.item, ["version"])
    measure.done = done
    db.session.flush()
    record_event(
        actor,
        "measure.done" if done else "measure.undone",
        "measure",
        measure.id,
        {"item_id": measure.item_id, "label": measure.label, "done": done},
        inspection_id=measure.item.inspection_id,
    )


def item_progress(item: RectificationItem) -> int:
    """0–100: the user's figure if set, else the share of measures done."""
    if item.progress_override is not None:
        return item.progress_override
    if not item.measures:
        return 100 if item.state in ("completed", "follow_up") else 0
    return round(100 * sum(m.done for m in item.measures) / len(item.measures))
