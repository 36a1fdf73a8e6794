"""What the item page shows of deadlines: the original one, each approved extension with who
decided each step and when, and the requests still open or decided otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.deadlines.models import ExtensionRequest
from portal.deadlines.operations import OBJECT_TYPE
from portal.inspections.models import RectificationItem
from portal.versions.models import DocumentVersion


@dataclass
class RequestRecord:
    request: ExtensionRequest
    #: the request's workflow steps, oldest first (who decided, when, with what comment)
    steps: list[WorkflowHistory] = field(default_factory=list)


@dataclass
class DeadlineHistory:
    original: date | None
    #: approved extensions, oldest first
    extensions: list[RequestRecord]
    #: every request of the item, newest first
    requests: list[RequestRecord]

    @property
    def approved_count(self) -> int:
        return len(self.extensions)


def original_deadline(item_id: int) -> date | None:
    """The deadline the item was created with (its version 1)."""
    data = db.session.scalar(
        sa.select(DocumentVersion.data).where(
            DocumentVersion.object_type == "item",
            DocumentVersion.object_id == item_id,
            DocumentVersion.number == 1,
        )
    )
    value = (data or {}).get("deadline")
    return date.fromisoformat(value) if value else None


def approved_extension_count(item_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            ExtensionRequest.item_id == item_id, ExtensionRequest.extension_state == "approved"
        )
    )


def deadline_history(item: RectificationItem) -> DeadlineHistory:
    """Three queries whatever the number of requests."""
    requests = db.session.scalars(
        sa.select(ExtensionRequest)
        .options(so.joinedload(ExtensionRequest.requested_by))
        .where(ExtensionRequest.item_id == item.id)
        .order_by(ExtensionRequest.id)
    ).all()
    steps: dict[int, list[WorkflowHistory]] = {r.id: [] for r in requests}
    if requests:
        for entry in db.session.scalars(
            sa.select(WorkflowHistory)
            .options(so.joinedload(WorkflowHistory.actor))
            .where(WorkflowHistory.object_type == OBJECT_TYPE, WorkflowHistory.object_id.in_(list(steps)))
            .order_by(WorkflowHistory.id)
        ):
            steps[entry.object_id].append(entry)
    records = [RequestRecord(r, steps[r.id]) for r in requests]
    return DeadlineHistory(
        original=original_deadline(item.id),
        extensions=[r for r in records if r.request.extension_state == "approved"],
        requests=list(reversed(records)),
    )


def approved_extension_counts(item_ids) -> dict[int, int]:
    """item id -> how many extensions of it were approved (items without any left out); one query."""
    ids = list(item_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(ExtensionRequest.item_id, sa.func.count())
            .where(ExtensionRequest.item_id.in_(ids), ExtensionRequest.extension_state == "approved")
            .group_by(ExtensionRequest.item_id)
        ).all()
    )
