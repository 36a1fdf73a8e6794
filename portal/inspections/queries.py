"""Read models for the pages: roll-ups computed in SQL, a constant number of statements."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from portal.core.extensions import db
from portal.core.filters import visible
from portal.inspections.models import MEASURE_OPEN, Category, Inspection, Measure, RectificationItem
from portal.supervision.levels import BY_ID as LEVELS
from portal.supervision.levels import Level, level_expression
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
class ItemRow:
    item: RectificationItem
    progress: int
    #: its deadline level (三色), decided in SQL
    level: Level


@dataclass
class CategoryBlock:
    category: Category | None
    rows: list[ItemRow] = field(default_factory=list)

    @property
    def progress(self) -> int:
        return round(sum(r.progress for r in self.rows) / len(self.rows)) if self.rows else 0


@dataclass
class Overview:
    inspection: Inspection
    blocks: list[CategoryBlock]
    state_counts: dict[str, int]

    @property
    def rows(self) -> list[ItemRow]:
        return [r for b in self.blocks for r in b.rows]

    @property
    def progress(self) -> int:
        rows = self.rows
        return round(sum(r.progress for r in rows) / len(rows)) if rows else 0


def inspection_overview(inspection: Inspection, user, today) -> Overview:
    """Categories with the items `user` may see, their progress and deadline levels."""
    categories = db.session.scalars(
        sa.select(Category)
        .where(Category.inspection_id == inspection.id)
        .order_by(Category.position, Category.id)
    ).all()
    blocks = {c.id: CategoryBlock(c) for c in categories}
    uncategorised = CategoryBlock(None)
    rows = db.session.execute(
        sa.select(Item, progress_expression(), level_expression(Item, today))
        .where(Item.inspection_id == inspection.id, visible(user, Item))
        .order_by(Item.id)
    ).all()
    counts: dict[str, int] = {}
    for item, progress, level in rows:
        row = ItemRow(item, int(progress or 0), LEVELS[level])
        blocks.get(item.category_id, uncategorised).rows.append(row)
        counts[item.state] = counts.get(item.state, 0) + 1
    ordered = list(blocks.values()) + ([uncategorised] if uncategorised.rows else [])
    return Overview(inspection, ordered, counts)


def visible_items(inspection: Inspection, user) -> list[RectificationItem]:
    """The inspection's items that `user` may see, in order."""
    return db.session.scalars(
        sa.select(Item).where(Item.inspection_id == inspection.id, visible(user, Item)).order_by(Item.id)
    ).all()
