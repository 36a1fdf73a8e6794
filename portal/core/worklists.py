"""Worklists (Plone's): the declared ones, each a query generated from its definition.

A worklist is declared in a workflow definition (states + a guard). Its rows are the objects of
the content type that workflow governs, in one of its states, for which the guard passes for
the user: one SQL query with a count, paginated. `contains` is the same rule on one object in
Python, and a property test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.core.cache import computed_once, data_head, request_memo
from portal.core.content import workflows_of
from portal.core.extensions import db
from portal.core.filters import all_of, guard_clause, never_holds
from portal.core.policy import PolicyContext, guard_allows
from workflows import WORKFLOWS, Workflow, Worklist


@dataclass(frozen=True)
class Declared:
    worklist: Worklist
    workflow: Workflow
    model: type

    @property
    def id(self) -> str:
        return self.worklist.id


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _model_of(workflow: Workflow) -> type:
    for mapper in db.Model.registry.mappers:
        if workflow in workflows_of(mapper.class_):
            return mapper.class_
    raise LookupError(f"no content type is governed by workflow {workflow.id!r}")


@cache
def declared() -> dict[str, Declared]:
    """Every worklist of every workflow, by id (ids are unique across workflows)."""
    found: dict[str, Declared] = {}
    for workflow in WORKFLOWS.values():
        if not workflow.worklists:
            continue
        model = _model_of(workflow)
        for worklist in workflow.worklists:
            if worklist.id in found:
                raise ValueError(f"worklist id {worklist.id!r} is declared twice")
            found[worklist.id] = Declared(worklist, workflow, model)
    return found


def get(name: str) -> Declared:
    return declared()[name]


def query(name: str, user, today: date) -> sa.Select:
    d = get(name)
    state = getattr(d.model, d.workflow.state_attribute)
    return sa.select(d.model).where(
        all_of(state.in_(d.worklist.states), guard_clause(user, d.model, d.worklist.guard, today, d.workflow))
    )


def _order(model: type) -> list:
    order = []
    for name in getattr(model, "__worklist_order__", ("id",)):
        column = getattr(model, name)
        if column.nullable:
            order.append(column.is_(None))  # rows without a value last
        order.append(column)
    return order


def never_lists(name: str, user) -> bool:
    """Whether the worklist is empty for `user` whatever the data: its guard asks for a role
    they can never hold (an auditor and the leaders' review list). Nothing is then queried."""
    d = get(name)
    return bool(d.worklist.guard.roles) and never_holds(user, d.model, d.worklist.guard.roles)


def count(name: str, user, today: date) -> int:
    """How many rows the worklist holds for `user`. Within a request each count is asked once
    (the menu's badge and the home page's list share it), and it is kept with the figures
    (portal.core.cache) for this state of the data, user and day, so that the next page the
    user opens before anything is written asks nothing either."""
    if never_lists(name, user):
        return 0
    memo = request_memo()
    if memo is None:
        return _count(name, user, today)
    key = ("worklist-count", name, getattr(user, "id", None), today.isoformat())
    if key not in memo:
        head = data_head()  # (remembered in this same memo)
        memo[key] = computed_once((*key, head.key), lambda: _count(name, user, today))
    return memo[key]


def _count(name: str, user, today: date) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query(name, user, today).subquery()))


def page(name: str, user, today: date, page: int = 1, per_page: int = 20) -> Page:
    d = get(name)
    page, per_page = max(1, page), max(1, min(per_page, 200))
    if never_lists(name, user):
        return Page([], 0, page, per_page)
    select = query(name, user, today)
    for relationship in getattr(d.model, "__worklist_load__", ()):
        select = select.options(so.selectinload(getattr(d.model, relationship)))
    rows = db.session.scalars(
        select.order_by(*_order(d.model)).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(rows, count(name, user, today), page, per_page)


def counts(user, today: date, names) -> dict[str, int]:
    """Badge counts: one COUNT query per worklist named."""
    return {name: count(name, user, today) for name in names}


def contains(name: str, user, obj, today: date, ctx: PolicyContext | None = None) -> bool:
    """The worklist's rule on one object, in Python (what `query` selects in SQL).

    `ctx` may carry the user's roles on `obj` already worked out (for many questions at once).
    """
    d = get(name)
    if not isinstance(obj, d.model):
        return False
    if getattr(obj, d.workflow.state_attribute) not in d.worklist.states:
        return False
    return guard_allows(d.worklist.guard, obj, ctx or PolicyContext(user, obj, today), d.workflow)
