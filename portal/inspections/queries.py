"""Read models for the pages: roll-ups computed in SQL, a constant number of statements."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from portal.core.extensions import db
from portal.core.filters import visible
from portal.inspections.models import MEASURE_OPEN, Category, Inspection, Measure, RectificationItem
from workflows.rectification import CLOSED as CLOSED_STATES

Item = RectificationItem


def progress_expression():
    """SQL: an item's progress 0–100, as operations.item_progress computes it (completed: 100;
    else the user's figure, else the share of measures closed)."""
    total = sa.select(sa.func.count(Measure.id)).where(Measure.item_id == Item.id).scalar_subquery()
    closed = (
        sa.select(sa.func.count(Measure.id))
        .where(Measure.item_id == Item.id, Measure.status != MEASURE_OPEN)
        .scalar_subquery()
    )
    return sa.case(
        (Item.state.in_(CLOSED_STATES), 100),
        (Item.progress_override.is_not(None), Item.progress_override),
        (total > 0, sa.func.round(100.0 * closed / sa.func.nullif(total, 0))),
        else_=0,
    )


@dataclass
class CategoryBlock:
    category: Category | None
    #: how many items of the category the user may see, and the sum of their progress
    count: int = 0
    progress_sum: int = 0

    @property
    def progress(self) -> int:
        return round(self.progress_sum / self.count) if self.count else 0


@dataclass
class Overview:
    inspection: Inspection
    blocks: list[CategoryBlock]
    state_counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(b.count for b in self.blocks)

    @property
    def progress(self) -> int:
        total = self.total
        return round(sum(b.progress_sum for b in self.blocks) / total) if total else 0


def inspection_overview(inspection: Inspection, user) -> Overview:
    """The inspection's roll-up over the items `user` may see: per category, how many and their
    progress; per state, how many. One grouped query, whatever the number of items."""
    categories = db.session.scalars(
        sa.select(Category)
        .where(Category.inspection_id == inspection.id)
        .order_by(Category.position, Category.id)
    ).all()
    blocks = {c.id: CategoryBlock(c) for c in categories}
    uncategorised = CategoryBlock(None)
    per_item = (
        sa.select(Item.category_id, Item.state, progress_expression().label("progress"))
        .where(Item.inspection_id == inspection.id, visible(user, Item))
        .subquery()
    )
    grouped = db.session.execute(
        sa.select(
            per_item.c.category_id,
            per_item.c.state,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(per_item.c.progress), 0),
        ).group_by(per_item.c.category_id, per_item.c.state)
    ).all()
    counts: dict[str, int] = {}
    for category_id, state, n, progress in grouped:
        block = blocks.get(category_id, uncategorised)
        block.count += n
        block.progress_sum += int(progress)
        counts[state] = counts.get(state, 0) + n
    ordered = list(blocks.values()) + ([uncategorised] if uncategorised.count else [])
    return Overview(inspection, ordered, counts)


def visible_items(inspection: Inspection, user) -> list[RectificationItem]:
    """The inspection's items that `user` may see, in order."""
    return db.session.scalars(
        sa.select(Item).where(Item.inspection_id == inspection.id, visible(user, Item)).order_by(Item.id)
    ).all()
