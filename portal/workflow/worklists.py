"""Worklists as SQL: what awaits a user, what is theirs, what is late. Paginated, with counts.

Each list is one query over items (no loading every item to filter in Python). The role logic
mirrors portal.workflow.policy: local grants reach an item from itself, its category (unless the
item blocks inheritance) and its inspection (unless the item or its category blocks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.extensions import db
from portal.inspections.models import APPROVAL_DUAL, Category, Inspection, RectificationItem
from portal.sharing.models import LocalRole
from portal.workflow.models import Approval
from portal.workflow.policy import principal_clause
from workflows import RECTIFICATION

Item = RectificationItem
OPEN_STATES = ("assigned", "in_progress", "pending_review")
GLOBAL_VIEWERS = frozenset(RECTIFICATION.state("assigned").roles_with("view")) & {
    "office", "leader", "auditor"}


@dataclass
class Page:
    items: list[RectificationItem]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _category_blocked():
    return sa.exists().where(Category.id == Item.category_id, Category.local_roles_blocked)


def granted(user, role_names) -> sa.ColumnElement[bool]:
    """SQL: `user` holds one of `role_names` on the item through a local grant."""
    reach = sa.or_(
        sa.and_(LocalRole.object_type == "item", LocalRole.object_id == Item.id),
        sa.and_(LocalRole.object_type == "category", LocalRole.object_id == Item.category_id,
                sa.not_(Item.local_roles_blocked)),
        sa.and_(LocalRole.object_type == "inspection", LocalRole.object_id == Item.inspection_id,
                sa.not_(Item.local_roles_blocked), sa.not_(_category_blocked())),
    )
    return sa.exists().where(principal_clause(user), LocalRole.role.in_(role_names), reach)


def _is_party_secretary(user) -> sa.ColumnElement[bool]:
    return sa.exists().where(Inspection.id == Item.inspection_id,
                             Inspection.approval_policy == APPROVAL_DUAL,
                             Inspection.party_secretary_id == user.id)


def is_reviewer(user) -> sa.ColumnElement[bool]:
    return sa.or_(Item.responsible_leader_id == user.id, _is_party_secretary(user),
                  granted(user, ["Reviewer"]))


def is_worker(user) -> sa.ColumnElement[bool]:
    """Editor (responsible staff or granted) or the responsible leader: the `work` permission."""
    return sa.or_(Item.staff_id == user.id, Item.responsible_leader_id == user.id,
                  granted(user, ["Editor"]))


def can_view(user) -> sa.ColumnElement[bool]:
    if not user.roles.isdisjoint(GLOBAL_VIEWERS):
        return sa.true()
    return sa.or_(is_worker(user), is_reviewer(user), granted(user, ["Reader"]))


def _count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _page(query: sa.Select, page: int, per_page: int) -> Page:
    page, per_page = max(1, page), max(1, min(per_page, 200))
    order = (Item.deadline.is_(None), Item.deadline, Item.id)  # earliest deadline first
    rows = db.session.scalars(query.options(so.selectinload(Item.inspection))
                              .order_by(*order).limit(per_page)
                              .offset((page - 1) * per_page)).all()
    return Page(rows, _count(query), page, per_page)


def awaiting_my_review_query(user) -> sa.Select:
    """待我审核: submitted items this leader reviews and has not approved yet."""
    if "leader" not in user.roles:
        return sa.select(Item).where(sa.false())
    return sa.select(Item).where(Item.state == "pending_review", is_reviewer(user), ~sa.exists().where(
        Approval.item_id == Item.id, Approval.user_id == user.id, Approval.cleared_at.is_(None)))


def my_items_query(user) -> sa.Select:
    """我的整改事项: open items this user works on."""
    return sa.select(Item).where(Item.state.in_(("assigned", "in_progress")), is_worker(user))


def overdue_query(user, today: date) -> sa.Select:
    """逾期: open items past their deadline that this user can see."""
    return sa.select(Item).where(Item.state.in_(OPEN_STATES), Item.deadline < today,
                                 can_view(user))


def due_within_query(user, days: int, today: date) -> sa.Select:
    """即将到期: open items due in the next `days` days (today included)."""
    return sa.select(Item).where(Item.state.in_(OPEN_STATES), Item.deadline >= today,
                                 Item.deadline <= today + timedelta(days=days), can_view(user))


def reported_not_fixed_query(user) -> sa.Select:
    """回头看候选: completed items the public says are not fixed since they were completed."""
    from portal.feedback.models import FixCheck
    from portal.workflow.models import WorkflowHistory

    completed_at = (sa.select(sa.func.max(WorkflowHistory.at)).where(
        WorkflowHistory.object_type == "item", WorkflowHistory.object_id == Item.id,
        WorkflowHistory.to_state == "completed").scalar_subquery())
    return sa.select(Item).where(Item.state == "completed", can_view(user), sa.exists().where(
        FixCheck.item_id == Item.id, FixCheck.answer == "not_fixed",
        FixCheck.created_at >= completed_at))


def reported_not_fixed(user, page: int = 1, per_page: int = 20) -> Page:
    return _page(reported_not_fixed_query(user), page, per_page)


def awaiting_my_review(user, page: int = 1, per_page: int = 20) -> Page:
    return _page(awaiting_my_review_query(user), page, per_page)


def my_items(user, page: int = 1, per_page: int = 20) -> Page:
    return _page(my_items_query(user), page, per_page)


def overdue(user, today: date, page: int = 1, per_page: int = 20) -> Page:
    return _page(overdue_query(user, today), page, per_page)


def due_within(user, days: int, today: date, page: int = 1, per_page: int = 20) -> Page:
    return _page(due_within_query(user, days, today), page, per_page)


def counts(user, today: date, soon_days: int = 7) -> dict[str, int]:
    """Badge counts for the navigation: one COUNT query per list."""
    return {
        "awaiting_review": _count(awaiting_my_review_query(user)),
        "my_items": _count(my_items_query(user)),
        "overdue": _count(overdue_query(user, today)),
        "due_soon": _count(due_within_query(user, soon_days, today)),
    }
