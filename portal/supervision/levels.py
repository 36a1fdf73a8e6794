"""Deadline levels (三色): how close an open item or measure is to its deadline, or how far past.

The levels are data; `deadline_level` decides one in Python and `level_expression` decides the
same in SQL for lists (a property test keeps the two equal). The thresholds are the
inspection's (`remind_days`, `warn_days`, `interview_days`). Completed items (and items in
回头看) and closed measures have no level; a measure without its own deadline has its item's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.core.extensions import db
from portal.inspections.models import MEASURE_OPEN, Inspection, Measure, RectificationItem
from workflows.rectification import CLOSED as CLOSED_STATES

Item = RectificationItem


@dataclass(frozen=True)
class Level:
    """One deadline level: its id, titles, the CSS class of its mark and its rank (higher: worse)."""

    id: str
    title_zh: str
    title_en: str
    css: str
    order: int
    #: shown publicly as 已逾期 (the public sees overdue, not the internal escalation)
    overdue: bool = False

    def __bool__(self) -> bool:
        return self.id != NONE.id


NONE = Level("none", "无", "None", "", 0)
REMIND = Level("remind", "提醒", "Reminder", "deadline-remind", 1)
WARN = Level("warn", "预警", "Warning", "deadline-warn", 2)
SUPERVISE = Level("supervise", "督办", "Overdue: supervised", "deadline-supervise", 3, overdue=True)
INTERVIEW = Level("interview", "约谈", "Overdue: interview", "deadline-interview", 4, overdue=True)
LEVELS = (NONE, REMIND, WARN, SUPERVISE, INTERVIEW)
BY_ID = {level.id: level for level in LEVELS}


def deadline_level(deadline: date | None, today: date, inspection, closed: bool) -> Level:
    """The level of a deadline on `today` under `inspection`'s thresholds (NONE when closed)."""
    if deadline is None or closed:
        return NONE
    days_left = (deadline - today).days
    if days_left <= -inspection.interview_days:
        return INTERVIEW
    if days_left < 0:
        return SUPERVISE
    if days_left <= inspection.warn_days:
        return WARN
    if days_left <= inspection.remind_days:
        return REMIND
    return NONE


def item_level(item: RectificationItem, today: date) -> Level:
    return deadline_level(item.deadline, today, item.inspection, item.state in CLOSED_STATES)


def measure_level(measure: Measure, today: date) -> Level:
    """A measure's own deadline, else its item's; none once the measure or the item is closed."""
    item = measure.item
    closed = measure.status != MEASURE_OPEN or item.state in CLOSED_STATES
    return deadline_level(measure.deadline or item.deadline, today, item.inspection, closed)


# --- SQL ---------------------------------------------------------------------------------------


class days_until(FunctionElement):  # noqa: N801 (a SQL function, named like one)
    """SQL: whole days from the second date to the first (negative once it has passed)."""

    type = sa.Integer()
    inherit_cache = True


@compiles(days_until)
def _days_until_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(days_until, "postgresql")
def _days_until_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({later} - CAST({earlier} AS DATE))"


def _case(deadline, closed, today: date):
    days_left = days_until(deadline, sa.literal(today, sa.Date()))
    return sa.case(
        (sa.or_(deadline.is_(None), closed), NONE.id),
        (days_left <= -Inspection.interview_days, INTERVIEW.id),
        (days_left < 0, SUPERVISE.id),
        (days_left <= Inspection.warn_days, WARN.id),
        (days_left <= Inspection.remind_days, REMIND.id),
        else_=NONE.id,
    )


def level_expression(model: type, today: date):
    """SQL: the level id of each row of `model` (items or measures), as `deadline_level` decides.

    A scalar subquery correlated with the row, reading its inspection's thresholds.
    """
    item_closed = Item.state.in_(CLOSED_STATES)
    if model is Item:
        select = sa.select(_case(Item.deadline, item_closed, today)).where(
            Inspection.id == Item.inspection_id
        )
        return select.correlate(Item).scalar_subquery()
    if model is Measure:
        deadline = sa.func.coalesce(Measure.deadline, Item.deadline)
        closed = sa.or_(Measure.status != MEASURE_OPEN, item_closed)
        select = (
            sa.select(_case(deadline, closed, today))
            .select_from(Item)
            .join(Inspection, Inspection.id == Item.inspection_id)
            .where(Item.id == Measure.item_id)
        )
        return select.correlate(Measure).scalar_subquery()
    raise TypeError(f"no deadline level for {model.__name__}")


def item_levels(items, today: date) -> dict[int, Level]:
    """The levels of `items` by id, in one statement (none when there are no items)."""
    ids = [item.id for item in items]
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Item.id, level_expression(Item, today)).where(Item.id.in_(ids)))
    return {item_id: BY_ID[level] for item_id, level in rows}
