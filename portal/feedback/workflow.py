"""Feedback's part of the pipeline: the moderation hooks, the forwarding condition and the
'reported not fixed' check.

Moderation runs through portal.core.transitions.fire like every workflow; what is particular
to feedback (a reply, a forwarding (转办) or its handling is stored with its step; the audit
actions read `moderation.*`) is here.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.audit.chain import utcnow
from portal.core import conditions
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.core.transitions import WorkflowHooks, register_hooks
from portal.feedback.models import Feedback, FixCheck
from workflows import RECTIFICATION


class FeedbackHooks(WorkflowHooks):
    object_type = "feedback"
    action_prefix = "moderation"
    conflict_message = _l("This feedback was moderated by someone else in the meantime.")

    def values(self, steps, comment: str, feedback) -> dict:
        effects = {effect for step in steps for effect in step.transition.effects}
        if "store_reply" in effects:
            return {"reply": comment, "replied_at": utcnow()}
        if "store_forward" in effects:  # the department chosen by operations.forward_feedback
            return {
                "forwarded_department_id": feedback.forward_to_department_id,
                "forwarded_at": utcnow(),
                "forward_note": comment,
                "forward_handled_at": None,
            }
        if "store_handled" in effects:
            return {"forward_handled_at": utcnow()}
        return {}


register_hooks(Feedback, FeedbackHooks())


# --- forwarded (转办) to the user's department and not yet handled ----------------------------


def _forwarded_to_my_department_sql(user, model, _today):
    department_id = getattr(user, "department_id", None)
    if department_id is None:
        return sa.false()
    return sa.and_(model.forwarded_department_id == department_id, model.forward_handled_at.is_(None))


def _forwarded_to_my_department(ctx) -> bool:
    department_id = getattr(ctx.user, "department_id", None)
    return (
        department_id is not None
        and ctx.obj.forwarded_department_id == department_id
        and ctx.obj.forward_handled_at is None
    )


conditions.register(
    "forwarded_to_my_department", _forwarded_to_my_department, _forwarded_to_my_department_sql
)


# --- “reported not fixed”: completed items the public says are not fixed --------------------

#: The state whose entry starts the count: answers given before it belong to an older round.
DONE_STATE = next(w for w in RECTIFICATION.worklists if w.id == "not_fixed").states[0]


def _completed_at(item_id):
    """When the item `item_id` (a column) last entered DONE_STATE."""
    return (
        sa.select(sa.func.max(WorkflowHistory.at))
        .where(
            WorkflowHistory.object_type == "item",
            WorkflowHistory.object_id == item_id,
            WorkflowHistory.to_state == DONE_STATE,
        )
        .scalar_subquery()
    )


def _reported_not_fixed_sql(_user, model, _today):
    # `id IN (the items of not-fixed answers given since their item's completion)`: asked once
    # per answer, not once per completed item, and answered from the primary key
    return model.id.in_(
        sa.select(FixCheck.item_id).where(
            FixCheck.answer == "not_fixed", FixCheck.created_at >= _completed_at(FixCheck.item_id)
        )
    )


def _reported_not_fixed(ctx) -> bool:
    model = type(ctx.obj)
    return (
        db.session.scalar(
            sa.select(
                sa.exists().where(model.id == ctx.obj.id, _reported_not_fixed_sql(ctx.user, model, None))
            )
        )
        is True
    )


conditions.register("reported_not_fixed", _reported_not_fixed, _reported_not_fixed_sql)
