"""The supervision pass (督办): escalating warnings, each level to a wider circle.

提醒 goes to the responsible staff; 预警 to the staff and the responsible leader; 督办 to the
responsible leader and the party secretary; 约谈 is flagged to the inspection office. Each
warning is issued once per (item, level, deadline): the pass inserts its warnings with
"on conflict do nothing" on that unique key, so a second pass (or one running at the same
moment in another process) issues nothing twice, and only the rows a pass inserted are
announced (an audit event, a notification, e-mail after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from portal.audit.chain import Actor, Event, record_events, utcnow
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.core.filters import active_in
from portal.inspections.models import Inspection, RectificationItem
from portal.notifications.operations import HoldersOf, batched, notify
from portal.supervision.follow_up import move_due_follow_ups
from portal.supervision.levels import BY_ID, level_expression
from portal.supervision.models import WARNING_LEVELS, SupervisionWarning
from workflows import RECTIFICATION
from workflows.rectification import OPEN as OPEN_STATES

Item = RectificationItem
#: Who hears of each level (see the module's docstring).
CIRCLES = {
    "remind": ("staff",),
    "warn": ("staff", "leader"),
    "supervise": ("leader", "secretary"),
    "interview": ("office",),
}


@dataclass
class PassResult:
    """What one pass did: warnings issued per level (every level listed, in order)."""

    today: date
    issued: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WARNING_LEVELS, 0))
    #: completed items moved into their follow-up check (回头看) because it fell due
    follow_ups: int = 0

    @property
    def total(self) -> int:
        return sum(self.issued.values())


#: the columns a pass writes for each warning it issues, and their types
_COLUMNS = {
    "item_id": sa.Integer(),
    "level": sa.String(),
    "deadline": sa.Date(),
    "issued_at": sa.DateTime(),
    "pass_day": sa.Date(),
}


def _insert_new(rows: list[dict]) -> list[sa.Row]:
    """INSERT the warnings not issued yet (ON CONFLICT DO NOTHING); (id, item id, level) of
    those inserted. On PostgreSQL one short statement over arrays (unnest), which the driver
    does not have to parse row by row; elsewhere one multi-row INSERT per batch."""
    table = SupervisionWarning.__table__
    returning = (table.c.id, table.c.item_id, table.c.level)
    if db.session.get_bind().dialect.name == "postgresql":
        arrays = (
            sa.func.unnest(
                *(
                    sa.bindparam(name, [row[name] for row in rows], type_=postgresql.ARRAY(t))
                    for name, t in _COLUMNS.items()
                )
            )
            .table_valued(*(sa.column(name, t) for name, t in _COLUMNS.items()))
            .render_derived()
        )
        statement = postgresql.insert(table).from_select(list(_COLUMNS), sa.select(arrays))
        return db.session.execute(
            statement.on_conflict_do_nothing(index_elements=["item_id", "level", "deadline"]).returning(
                *returning
            )
        ).all()
    statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=["item_id", "level", "deadline"])
    return db.session.execute(statement.returning(*returning), rows).all()


def due_warnings(today: date) -> list[tuple[int, str, date]]:
    """(item id, level, deadline) of every open item that has reached a level today."""
    level = level_expression(Item, today).label("level")
    rows = db.session.execute(
        sa.select(Item.id, level, Item.deadline)
        .where(Item.state.in_(OPEN_STATES), Item.deadline.is_not(None), active_in(Item, RECTIFICATION))
        .order_by(Item.id)
    ).all()
    return [(item_id, lvl, deadline) for item_id, lvl, deadline in rows if lvl in WARNING_LEVELS]


def recipients(item: RectificationItem, level: str) -> list:
    circle = CIRCLES[level]
    people = []
    if "staff" in circle:
        people.append(item.staff_id)
    if "leader" in circle:
        people.append(item.responsible_leader_id)
    if "secretary" in circle:
        people.append(item.inspection.party_secretary_id)
    if "office" in circle:
        people.append(HoldersOf("office"))
    return [p for p in people if p is not None]


#: the audit event that closes a pass: its object is the pass day, so "has today's pass run?"
#: is one indexed look-up (the worker's catch-up asks it every hour)
CLOSING_ACTION = "supervision.pass"


def run_pass(actor: Actor, today: date, batch: int = 500) -> PassResult:
    """Issue the warnings due on `today` and move the items whose 回头看 is due; flush, never
    commit (the caller commits). The notifications go out in one batch at the end, and one
    `supervision.pass` event records the pass in the same transaction."""
    with batched():
        result = _run_pass(actor, today, batch)
        record_events(
            actor,
            [
                Event(
                    CLOSING_ACTION,
                    "supervision",
                    today.isoformat(),
                    {"day": today.isoformat(), "issued": result.issued, "follow_ups": result.follow_ups},
                )
            ],
        )
        return result


def pass_completed(day: date) -> bool:
    """Has a pass for `day` been committed?"""
    return (
        db.session.scalar(
            sa.select(AuditEvent.seq)
            .where(
                AuditEvent.object_type == "supervision",
                AuditEvent.object_id == day.isoformat(),
                AuditEvent.action == CLOSING_ACTION,
            )
            .limit(1)
        )
        is not None
    )


def _run_pass(actor: Actor, today: date, batch: int) -> PassResult:
    result = PassResult(today, follow_ups=move_due_follow_ups(actor, today))
    due = due_warnings(today)
    now = utcnow()
    for start in range(0, len(due), batch):
        chunk = due[start : start + batch]
        inserted = _insert_new(
            [
                {"item_id": i, "level": lvl, "deadline": d, "issued_at": now, "pass_day": today}
                for i, lvl, d in chunk
            ]
        )
        if not inserted:
            continue
        items = {
            item.id: item
            for item in db.session.scalars(
                sa.select(Item)
                .where(Item.id.in_([row.item_id for row in inserted]))
                .options(so.selectinload(Item.inspection).selectinload(Inspection.party_secretary))
            )
        }
        events = []
        for warning_id, item_id, lvl in sorted(inserted):
            item = items[item_id]
            level = BY_ID[lvl]
            events.append(
                Event(
                    "supervision.warning",
                    "item",
                    item.id,
                    {
                        "warning_id": warning_id,
                        "level": lvl,
                        "deadline": item.deadline.isoformat(),
                        "pass_day": today.isoformat(),
                    },
                    inspection_id=item.inspection_id,
                )
            )
            notify(
                recipients(item, lvl),
                "warning",
                item,
                actor=actor,
                level=level.title_zh,
                level_id=lvl,
                deadline=item.deadline.isoformat(),
                warning_id=warning_id,
            )
            result.issued[lvl] += 1
        record_events(actor, events)
    return result


def warnings_of(item: RectificationItem) -> list[SupervisionWarning]:
    return db.session.scalars(
        sa.select(SupervisionWarning)
        .where(SupervisionWarning.item_id == item.id)
        .order_by(SupervisionWarning.issued_at, SupervisionWarning.id)
    ).all()
