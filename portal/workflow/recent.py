"""What a worklist row says about the item's last step: who submitted it and how long it has
waited (待我审核), or that it came back with a reason (退回). One statement per list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.core.extensions import db
from portal.core.models import WorkflowHistory

#: worklist -> (the steps it looks at, the note kind); my_items looks at every step
_NOTES = {"awaiting_review": ("submit",), "my_items": None}


@dataclass(frozen=True)
class RowNote:
    kind: str  # submitted | returned
    actor: str
    at: datetime
    comment: str
    #: whole days since the step, in the portal's time zone
    days: int


def _local_day(moment: datetime) -> date:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def latest_steps(item_ids: list[int], actions: tuple[str, ...] | None = None) -> dict[int, WorkflowHistory]:
    """The latest rectification step of each item (of `actions` only, when given)."""
    if not item_ids:
        return {}
    latest = (
        sa.select(sa.func.max(WorkflowHistory.id))
        .where(
            WorkflowHistory.object_type == "item",
            WorkflowHistory.workflow == "rectification",
            WorkflowHistory.object_id.in_(item_ids),
            *([WorkflowHistory.action.in_(actions)] if actions else []),
        )
        .group_by(WorkflowHistory.object_id)
    )
    rows = db.session.scalars(
        sa.select(WorkflowHistory)
        .options(so.joinedload(WorkflowHistory.actor))
        .where(WorkflowHistory.id.in_(latest))
    )
    return {row.object_id: row for row in rows}


def worklist_notes(name: str, items, day: date) -> dict[int, RowNote]:
    """Notes for the rows of worklist `name`: 待我审核 rows say who submitted and when; rows of
    my items that were returned say so, with the reviewer's reason."""
    if name not in _NOTES:
        return {}
    steps = latest_steps([getattr(i, "id", None) for i in items if getattr(i, "id", None)], _NOTES[name])
    notes = {}
    for item_id, step in steps.items():
        kind = "submitted" if step.action == "submit" else "returned" if step.action == "return" else None
        if kind is None or (name == "awaiting_review") != (kind == "submitted"):
            continue
        notes[item_id] = RowNote(
            kind,
            step.actor.display_name if step.actor else "",
            step.at,
            step.comment,
            (day - _local_day(step.at)).days,
        )
    return notes
