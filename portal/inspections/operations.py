"""Operations on the documents: create and edit inspections, categories, items and measures.

Every edit stores a version (portal.versions) and an audit event; item edits also claim the
item's version number, so that an edit based on a stale page is a conflict, not a lost update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.chain import Actor, inspection_id_of, record_event, utcnow
from portal.core.concurrency import claim_version
from portal.core.errors import Invalid
from portal.core.extensions import db
from portal.core.forms import money
from portal.core.policy import can, suspension
from portal.core.titles import state_title
from portal.inspections.models import (
    APPROVAL_DUAL,
    APPROVAL_SINGLE,
    MEASURE_DONE,
    MEASURE_OPEN,
    MEASURE_REASONED,
    MEASURE_STATUSES,
    Category,
    Inspection,
    Measure,
    RectificationItem,
)
from portal.notifications.operations import notify_assigned
from portal.versions.operations import apply_changes, record_version, snapshot
from workflows.rectification import CLOSED as CLOSED_STATES
from workflows.rectification import SUBMITTED as SUBMITTED_STATES


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
        {
            **snapshot(obj),
            **(extra or {}),
            **({"position": obj.position} if isinstance(obj, Measure) else {}),
        },
        inspection_id=inspection_id or inspection_id_of(obj),
    )


#: The amounts of an item: yuan with fen, 0 ≤ amount < 10^12 (portal.core.forms.money_problem).
MONEY_FIELDS = ("money_to_recover", "money_recovered")


def _amount(value) -> Decimal | None:
    """An amount as stored (two decimals), so that the audit log records what the database keeps;
    Invalid for Infinity, NaN, 1e400, a negative amount or more than two decimals."""
    try:
        return money(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


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
    remind_days: int = 20,
    warn_days: int = 10,
    interview_days: int = 15,
    follow_up_months: int = 6,
) -> Inspection:
    """Create a 巡察轮次 (with the thresholds of its deadline levels and its 回头看 interval)."""
    inspection = Inspection(
        remind_days=remind_days,
        warn_days=warn_days,
        interview_days=interview_days,
        follow_up_months=follow_up_months,
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
    check_dual_review(inspection, [])
    _created(actor, inspection, "inspection")
    return inspection


# --- 双审制: two different people ----------------------------------------------------------


def dual_review_problem(inspection: Inspection, leader_ids) -> str | None:
    """Why `inspection`'s approval policy cannot work with items led by `leader_ids`, or None.

    Under 双审制 the party secretary approves besides each item's responsible leader, so they
    must be two different people: one person approving twice would complete an item alone.
    """
    if inspection.approval_policy != APPROVAL_DUAL:
        return None
    secretary_id = inspection.party_secretary_id or getattr(inspection.party_secretary, "id", None)
    if secretary_id is None:
        return _("双审制 needs a party secretary.")
    if secretary_id in set(leader_ids):
        return _(
            "双审制 needs two different people: the party secretary is also the responsible leader "
            "of %(n)d item(s) of this inspection. Choose another party secretary or other "
            "responsible leaders.",
            n=sum(1 for i in leader_ids if i == secretary_id),
        )
    return None


def check_dual_review(inspection: Inspection, leader_ids) -> None:
    problem = dual_review_problem(inspection, list(leader_ids))
    if problem:
        raise Invalid(problem)


def _leader_ids(inspection: Inspection) -> list[int]:
    if inspection.id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(RectificationItem.responsible_leader_id).where(
                RectificationItem.inspection_id == inspection.id,
                RectificationItem.responsible_leader_id.is_not(None),
            )
        )
    )


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
    money_to_recover = _amount(money_to_recover)
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
    leader_id = getattr(responsible_leader, "id", None)
    check_dual_review(inspection, _leader_ids(inspection) + ([leader_id] if leader_id else []))
    _created(
        actor,
        item,
        "item",
        {"inspection_id": inspection.id, "state": item.state, "publication_state": item.publication_state},
    )
    notify_assigned(actor, item)
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
            {**snapshot(measure), "item_id": item.id, "position": measure.position},
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
    if isinstance(obj, RectificationItem):
        values = {k: _amount(v) if k in MONEY_FIELDS else v for k, v in values.items()}
    if item is not None:
        claim_version(item, item.version if expected_version is None else expected_version)
    changed = apply_changes(actor, obj, values, note)
    if isinstance(obj, RectificationItem) and "staff_id" in changed:
        notify_assigned(actor, obj)
    if isinstance(obj, Inspection):
        db.session.refresh(obj, ["party_secretary"])
        check_dual_review(obj, _leader_ids(obj))
    elif isinstance(obj, RectificationItem):
        check_dual_review(obj.inspection, _leader_ids(obj.inspection))
        if obj.progress_override == 100 and obj.state not in CLOSED_STATES and open_measures(obj):
            raise Invalid(
                _(
                    "Progress cannot be 100%% while %(n)d measure(s) are still open: mark them done, "
                    "long-term (长期坚持) or not applicable, or leave progress empty.",
                    n=len(open_measures(obj)),
                )
            )
    return changed


#: The item fields a bulk assignment may set (all under the "assign" field permission).
BULK_ASSIGN_FIELDS = ("department_id", "staff_id", "deadline")


@dataclass
class BulkAssignment:
    """What a bulk assignment did: the items changed, those already as asked, and the items
    refused with the reason (nothing was written to a refused item)."""

    changed: list[RectificationItem] = field(default_factory=list)
    unchanged: list[RectificationItem] = field(default_factory=list)
    refused: list[tuple[RectificationItem, str]] = field(default_factory=list)


def assign_items(
    actor: Actor, items: list[RectificationItem], values: dict, note: str = ""
) -> BulkAssignment:
    """Set the department, responsible staff or deadline of several items at once.

    Each item goes through `update_document`, so each one changed gets its own version and its
    own item.update audit event (and its new staff a notification), exactly as an edit of that
    item alone. An item the actor may not assign now (a withdrawn one, say) is refused before
    anything is written to it, and the others are still assigned.
    """
    unknown = set(values) - set(BULK_ASSIGN_FIELDS)
    if unknown:
        raise ValueError(f"not assignable in bulk: {sorted(unknown)}")
    done = BulkAssignment()
    for item in items:
        problem = _assign_problem(actor, item)
        if problem:
            done.refused.append((item, problem))
        elif update_document(actor, item, values, note):
            done.changed.append(item)
        else:
            done.unchanged.append(item)
    return done


def _assign_problem(actor: Actor, item: RectificationItem) -> str | None:
    """Why `actor` may not assign `item` now, or None (system actors always may)."""
    if actor.user is None or can(actor.user, "assign", item):
        return None
    if suspension(item) is not None:
        return _("it has been withdrawn (撤销); restore it first")
    return _(
        "its department, staff and deadline cannot be changed by you while it is “%(state)s”",
        state=state_title("rectification", item.state),
    )


def add_measure(
    actor: Actor, item: RectificationItem, *, label: str, text: str, deadline: date | None = None
) -> Measure:
    """Add a 整改措施 after the existing ones; its label is kept as given."""
    position = 1 + max((m.position for m in item.measures), default=0)
    _measures_still_open_to_change(item)
    claim_version(item, item.version)
    measure = Measure(
        item_id=item.id, label=label.strip(), text=text.strip(), deadline=deadline, position=position
    )
    _created(actor, measure, "measure", {"item_id": item.id}, inspection_id=item.inspection_id)
    db.session.expire(item, ["version", "measures"])
    return measure


#: The audit action of each status a measure is set to.
MEASURE_ACTIONS = {
    MEASURE_DONE: "measure.done",
    MEASURE_OPEN: "measure.undone",
    "long_term": "measure.long_term",
    "not_applicable": "measure.not_applicable",
}


def set_measure_status(actor: Actor, measure: Measure, status: str, reason: str = "") -> None:
    """Mark a measure done, open again, long-term (长期坚持) or not applicable (progress, not
    content: audited, not versioned). Long-term and not applicable need a reason."""
    if status not in MEASURE_STATUSES:
        raise Invalid(_("Unknown measure status."))
    reason = (reason or "").strip() if status in MEASURE_REASONED else ""
    if status in MEASURE_REASONED and not reason:
        raise Invalid(_("Say why this measure is long-term or not applicable."))
    if measure.status == status and measure.status_reason == reason:
        return
    _measures_still_open_to_change(measure.item)
    claim_version(measure.item, measure.item.version)
    db.session.expire(measure.item, ["version"])
    before = measure.status
    measure.status, measure.status_reason = status, reason
    db.session.flush()
    record_event(
        actor,
        MEASURE_ACTIONS[status],
        "measure",
        measure.id,
        {
            "item_id": measure.item_id,
            "label": measure.label,
            "from": before,
            "status": status,
            "reason": reason,
        },
        inspection_id=measure.item.inspection_id,
    )


def _measures_still_open_to_change(item: RectificationItem) -> None:
    """Once submitted, an item's measures are what was reviewed: they change again only after
    it is returned or reopened (so that completed always means every measure closed)."""
    if item.state in SUBMITTED_STATES:
        raise Invalid(
            _(
                "This item has been submitted for review or completed, so its measures cannot "
                "change now. Return it or reopen it first."
            )
        )


def set_measure_done(actor: Actor, measure: Measure, done: bool) -> None:
    """Tick or untick a measure."""
    set_measure_status(actor, measure, MEASURE_DONE if done else MEASURE_OPEN)


def open_measures(item: RectificationItem) -> list[Measure]:
    """The measures that keep `item` from being submitted."""
    return [m for m in item.measures if not m.closed]


def item_progress(item: RectificationItem) -> int:
    """0–100, never contradicting the state: a completed item is 100 (every measure is closed);
    otherwise the user's figure if set, else the share of measures closed."""
    if item.state in CLOSED_STATES:
        return 100
    if item.progress_override is not None:
        return item.progress_override
    if not item.measures:
        return 0
    return round(100 * sum(m.closed for m in item.measures) / len(item.measures))
