"""回头看 on schedule: the supervision pass moves completed items whose follow-up check is due.

When an item is completed, its follow-up check is scheduled for its inspection's
`follow_up_months` later (`items.follow_up_due_on`). Nobody fires the move by hand: the
rectification workflow declares it as an automatic transition (`follow_up_on_schedule`)
guarded by the condition `follow_up_due`, and the pass re-evaluates the automatic transitions of
the items that condition selects in SQL (`portal.core.transitions.settle_many`, 500 at a time).
Each move is an ordinary step: the conditional update, one history entry, one audit event, the
notification to the office and the responsible leader (portal.notifications.triggers).

An item moved once is no longer completed, so a second pass finds nothing; of two passes at
the same moment, the second one's update matches no row for the items the first one moved, and
it leaves them to the first.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.audit.chain import Actor
from portal.core import conditions
from portal.core.extensions import db
from portal.core.filters import active_in
from portal.core.transitions import settle_many
from portal.inspections.models import RectificationItem
from workflows import RECTIFICATION

Item = RectificationItem
#: the automatic transition the pass looks for, and the condition guarding it
TRANSITION = RECTIFICATION.transition("follow_up_on_schedule")
(CONDITION,) = TRANSITION.guard.conditions


def due_follow_ups(today: date) -> list[int]:
    """Ids of the items whose follow-up check is due on `today`, by id."""
    return list(
        db.session.scalars(
            sa.select(Item.id)
            .where(
                Item.state.in_(TRANSITION.sources),
                conditions.clause(CONDITION, None, Item, today),
                active_in(Item, RECTIFICATION),
            )
            .order_by(Item.id)
        )
    )


def move_due_follow_ups(actor: Actor, today: date) -> int:
    """Move every item whose follow-up check is due into 回头看; flush, never commit.

    Return how many items moved (an item another pass moved meanwhile is not counted).
    """
    moved, due = 0, due_follow_ups(today)
    for start in range(0, len(due), 500):
        chunk = db.session.scalars(
            sa.select(Item)
            .where(Item.id.in_(due[start : start + 500]))
            .order_by(Item.id)
            .options(so.joinedload(Item.inspection))
        ).all()
        taken = settle_many(actor, chunk, today=today)
        moved += sum(any(step.transition is TRANSITION for step in steps) for steps in taken.values())
    return moved
