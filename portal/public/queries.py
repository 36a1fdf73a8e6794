"""What the public may see: published items only, and only their public fields.

Everything here reads published items through `published()`; no staff names, internal comments,
internal evidence or unpublished items ever reach a public page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.evidence.models import Evidence
from portal.feedback.models import Feedback
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.inspections.queries import progress_expression
from portal.versions.models import DocumentVersion

Item = RectificationItem
DONE = ("completed", "follow_up")
UNDER_WAY = ("in_progress", "pending_review")


def published():
    return Item.publication_state == "published"


def published_inspections() -> list[tuple[Inspection, int]]:
    rows = db.session.execute(
        sa.select(Inspection, sa.func.count(Item.id))
        .join(Item, Item.inspection_id == Inspection.id)
        .where(published())
        .group_by(Inspection.id)
        .order_by(Inspection.created_at.desc())
    ).all()
    return [(inspection, count) for inspection, count in rows]


@dataclass
class Headline:
    total: int
    completed: int
    under_way: int
    not_started: int
    money_to_recover: Decimal
    money_recovered: Decimal

    @property
    def rate(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0


@dataclass
class PublicRow:
    item: RectificationItem
    progress: int


def inspection_rows(
    inspection: Inspection, state: str | None = None, category_id: int | None = None
) -> list[PublicRow]:
    query = (
        sa.select(Item, progress_expression())
        .where(Item.inspection_id == inspection.id, published())
        .order_by(Item.id)
    )
    if state == "completed":
        query = query.where(Item.state.in_(DONE))
    elif state == "under_way":
        query = query.where(Item.state.in_(UNDER_WAY))
    elif state == "not_started":
        query = query.where(Item.state == "assigned")
    if category_id:
        query = query.where(Item.category_id == category_id)
    return [PublicRow(item, int(progress or 0)) for item, progress in db.session.execute(query)]


def headline(rows: list[PublicRow]) -> Headline:
    items = [r.item for r in rows]
    return Headline(
        total=len(items),
        completed=sum(i.state in DONE for i in items),
        under_way=sum(i.state in UNDER_WAY for i in items),
        not_started=sum(i.state == "assigned" for i in items),
        money_to_recover=sum((i.money_to_recover or Decimal(0) for i in items), Decimal(0)),
        money_recovered=sum((i.money_recovered or Decimal(0) for i in items), Decimal(0)),
    )


def categories_of(inspection: Inspection) -> list[Category]:
    return db.session.scalars(
        sa.select(Category)
        .where(Category.inspection_id == inspection.id)
        .order_by(Category.position, Category.id)
    ).all()


def public_item(item_id: int) -> RectificationItem | None:
    return db.session.scalar(sa.select(Item).where(Item.id == item_id, published()))


def public_measures(item: RectificationItem) -> list[Measure]:
    return db.session.scalars(
        sa.select(Measure).where(Measure.item_id == item.id).order_by(Measure.position, Measure.id)
    ).all()


def public_timeline(item: RectificationItem) -> list[WorkflowHistory]:
    """The item's rectification steps, without comments or names (those stay internal)."""
    return db.session.scalars(
        sa.select(WorkflowHistory)
        .where(
            WorkflowHistory.object_type == "item",
            WorkflowHistory.object_id == item.id,
            WorkflowHistory.workflow == "rectification",
            WorkflowHistory.from_state != WorkflowHistory.to_state,
        )  # approvals stay internal
        .order_by(WorkflowHistory.id.desc())
    ).all()


def public_evidence(item: RectificationItem) -> list[Evidence]:
    return db.session.scalars(
        sa.select(Evidence)
        .where(Evidence.item_id == item.id, Evidence.public.is_(True), Evidence.withdrawn_at.is_(None))
        .order_by(Evidence.id)
    ).all()


def original_deadline(item: RectificationItem):
    """The deadline the item was created with (to show whether it was extended)."""
    first = db.session.scalar(
        sa.select(DocumentVersion.data).where(
            DocumentVersion.object_type == "item",
            DocumentVersion.object_id == item.id,
            DocumentVersion.number == 1,
        )
    )
    return (first or {}).get("deadline")


def public_feedback(item: RectificationItem) -> list:
    """Published feedback on the item, with the office's replies (never contact details)."""

    return db.session.scalars(
        sa.select(Feedback)
        .where(Feedback.item_id == item.id, Feedback.moderation_state == "published")
        .order_by(Feedback.id)
    ).all()
