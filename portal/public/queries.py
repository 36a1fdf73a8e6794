"""What the public may see: published items only, and only their public fields; and the
inspection's real totals, which are public in this genre (反馈的15项问题).

Details are read through `published()`, the policy's answer for the anonymous visitor (published,
not withdrawn); no staff names, internal comments, internal evidence or unpublished items ever
reach a public page. Totals count every item that counts (not withdrawn), published or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from portal.core.cache import computed_once, data_head
from portal.core.extensions import db
from portal.core.filters import active_in, permitted
from portal.core.models import WorkflowHistory
from portal.core.policy import ANONYMOUS
from portal.core.worklists import Page
from portal.deadlines.history import approved_extension_counts
from portal.evidence.models import Evidence
from portal.feedback.models import Feedback
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.inspections.queries import progress_expression
from portal.supervision.levels import BY_ID as LEVELS
from portal.supervision.levels import Level, level_expression
from portal.versions.models import DocumentVersion
from workflows import RECTIFICATION
from workflows.rectification import CLOSED

Item = RectificationItem
DONE = CLOSED
UNDER_WAY = ("in_progress", "pending_review")


def published():
    """SQL: items the public may see (the policy's answer for the anonymous visitor)."""
    return permitted(ANONYMOUS, Item, "view_public")


def counted():
    """SQL: items that count in an inspection's totals (every one not withdrawn)."""
    return active_in(Item, RECTIFICATION)


@dataclass
class Headline:
    total: int
    completed: int
    under_way: int
    not_started: int
    money_to_recover: Decimal
    money_recovered: Decimal
    #: how many of the `total` items the public can read in detail
    published: int = 0

    @property
    def rate(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0

    @property
    def not_completed(self) -> int:
        return self.total - self.completed

    @property
    def unpublished(self) -> int:
        return self.total - self.published


def _totals_query():
    def number(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    return (
        sa.func.count(Item.id),
        number(Item.state.in_(DONE)),
        number(Item.state.in_(UNDER_WAY)),
        number(Item.state == RECTIFICATION.initial),
        sa.func.coalesce(sa.func.sum(Item.money_to_recover), 0),
        sa.func.coalesce(sa.func.sum(Item.money_recovered), 0),
        number(published()),
    )


def totals(inspection: Inspection) -> Headline:
    """The inspection's headline over every item that counts (one query)."""
    row = db.session.execute(
        sa.select(*_totals_query()).where(Item.inspection_id == inspection.id, counted())
    ).one()
    total, completed, under_way, not_started, to_recover, recovered, shown = row
    return Headline(
        total=int(total),
        completed=int(completed),
        under_way=int(under_way),
        not_started=int(not_started),
        money_to_recover=Decimal(to_recover),
        money_recovered=Decimal(recovered),
        published=int(shown),
    )


def published_inspections() -> list[tuple[Inspection, Headline]]:
    """Inspections with at least one published item, newest first, with their totals (the
    totals of every inspection are one grouped query over every item, kept with the figures for
    this state of the data: portal.core.cache)."""
    headlines = computed_once(("public-headlines", data_head().key), _published_headlines)
    inspections = db.session.scalars(
        sa.select(Inspection).where(Inspection.id.in_(headlines)).order_by(Inspection.created_at.desc())
    ).all()
    return [(inspection, headlines[inspection.id]) for inspection in inspections]


def _published_headlines() -> dict[int, Headline]:
    rows = db.session.execute(
        sa.select(Inspection.id, *_totals_query())
        .join(Item, Item.inspection_id == Inspection.id)
        .where(counted())
        .group_by(Inspection.id)
    ).all()
    return {
        row[0]: Headline(
            int(row[1]), int(row[2]), int(row[3]), int(row[4]), Decimal(row[5]), Decimal(row[6]), int(row[7])
        )
        for row in rows
        if row[7]
    }


def category_progress(inspection: Inspection) -> dict[int | None, int]:
    """Average progress per category over every item that counts (aggregates are public)."""
    rows = db.session.execute(
        sa.select(Item.category_id, sa.func.avg(progress_expression()))
        .where(Item.inspection_id == inspection.id, counted())
        .group_by(Item.category_id)
    ).all()
    return {category_id: round(float(average or 0)) for category_id, average in rows}


@dataclass
class PublicRow:
    item: RectificationItem
    progress: int
    #: its deadline level; the public sees only whether it is overdue (portal.supervision)
    level: Level
    extended: bool = False


#: published items on one page of the public inspection page
PER_PAGE = 50


def has_published_items(inspection: Inspection) -> bool:
    """Whether the inspection shows on the public side: one published item is enough (EXISTS)."""
    return bool(
        db.session.scalar(sa.select(sa.exists().where(Item.inspection_id == inspection.id, published())))
    )


def _chosen(inspection: Inspection, state: str | None, category_id: int | None) -> list:
    where = [Item.inspection_id == inspection.id, published()]
    if state == "completed":
        where.append(Item.state.in_(DONE))
    elif state == "under_way":
        where.append(Item.state.in_(UNDER_WAY))
    elif state == "not_completed":
        where.append(Item.state.not_in(DONE))
    if category_id:
        where.append(Item.category_id == category_id)
    return where


def inspection_page(
    inspection: Inspection, state: str | None, category_id: int | None, today, page: int
) -> Page:
    """One page of the published items (PER_PAGE, in order), with how many are chosen in all."""
    where = _chosen(inspection, state, category_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Item).where(*where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows = inspection_rows(
        inspection, state, category_id, today=today, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    return Page(rows, total, page, PER_PAGE)


def inspection_rows(
    inspection: Inspection,
    state: str | None = None,
    category_id: int | None = None,
    today=None,
    limit: int | None = None,
    offset: int = 0,
) -> list[PublicRow]:
    """The published items; with `today`, their deadline levels and extended marks too."""
    level = level_expression(Item, today) if today else sa.literal(LEVELS["none"].id)
    query = (
        sa.select(Item, progress_expression(), level)
        .where(*_chosen(inspection, state, category_id))
        .order_by(Item.id)
        .offset(offset)
        .limit(limit)
    )
    rows = [
        PublicRow(item, int(progress or 0), LEVELS[lvl]) for item, progress, lvl in db.session.execute(query)
    ]
    if today:
        extended = extended_items([row.item for row in rows])
        for row in rows:
            row.extended = row.item.id in extended
    return rows


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


def extended_items(items) -> set[int]:
    """The ids of `items` with an approved extension request (延期申请), in one query."""
    return set(approved_extension_counts(item.id for item in items))


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
