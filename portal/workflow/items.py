"""The item workflows' part of the pipeline: approvals (双审制), requirements, conditions.

Registers with portal.core what the rectification and publication workflows name: the guard
and worklist conditions (in Python and as SQL) and the hooks that check an item's requirements
and write its approvals. Nothing here names a state or a role: those are in the definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.chain import Actor, utcnow
from portal.core import conditions
from portal.core.extensions import db
from portal.core.timeutil import add_months
from portal.core.timeutil import today as local_today
from portal.core.titles import transition_title
from portal.core.transitions import WorkflowHooks, register_hooks
from portal.evidence.models import Evidence
from portal.inspections.models import APPROVAL_DUAL, Inspection, RectificationItem
from portal.inspections.operations import dual_review_problem, open_measures
from portal.workflow.models import Approval
from workflows import Step

Item = RectificationItem
#: The "due soon" worklist's window, in days (its title says 7日内到期).
DUE_SOON_DAYS = 7


# --- approvals ------------------------------------------------------------------------------


def open_approver_ids(item: RectificationItem) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Approval.user_id).where(Approval.item_id == item.id, Approval.cleared_at.is_(None))
        )
    )


def required_approver_ids(item: RectificationItem) -> set[int | None]:
    """The responsible leader, and under 双审制 the party secretary as well."""
    required = {item.responsible_leader_id}
    if item.inspection.approval_policy == APPROVAL_DUAL:
        required.add(item.inspection.party_secretary_id)
    return required


def active_evidence_ids(item: RectificationItem) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Evidence.id)
            .where(Evidence.item_id == item.id, Evidence.withdrawn_at.is_(None))
            .order_by(Evidence.id)
        )
    )


# --- conditions (Python and SQL) -----------------------------------------------------------


def _not_approved_by_actor(ctx) -> bool:
    return ctx.user.id not in open_approver_ids(ctx.obj)


def _not_approved_by_actor_sql(user, model, _today):
    return ~sa.exists().where(
        Approval.item_id == model.id, Approval.user_id == user.id, Approval.cleared_at.is_(None)
    )


def _not_responsible_staff(ctx) -> bool:
    """Separation of duties: who carries out an item (its 责任人) does not approve it."""
    return ctx.obj.staff_id is None or ctx.obj.staff_id != ctx.user.id


def _not_responsible_staff_sql(user, model, _today):
    return sa.or_(model.staff_id.is_(None), model.staff_id != user.id)


def _approval_policy_met(ctx) -> bool:
    item = ctx.obj
    if dual_review_problem(item.inspection, [item.responsible_leader_id]):
        return False  # 双审制 with one person never completes an item
    required = required_approver_ids(item)
    approved = open_approver_ids(item) | ctx.pending.get("approvals", set())
    return None not in required and required <= approved


def _measures_closed(ctx) -> bool:
    """Every measure is done, or long-term (长期坚持) / not applicable with its reason."""
    return not open_measures(ctx.obj)


def _overdue(ctx) -> bool:
    deadline = ctx.obj.deadline
    return deadline is not None and deadline < conditions.today_of(ctx)


def _due_soon(ctx) -> bool:
    deadline, today = ctx.obj.deadline, conditions.today_of(ctx)
    return deadline is not None and today <= deadline <= today + timedelta(days=DUE_SOON_DAYS)


def _not_under_review(ctx) -> bool:
    """公开 is decided outside the review: not while the item waits for its reviewers."""
    return ctx.obj.state != "pending_review"


def _follow_up_due(ctx) -> bool:
    """回头看: the day set when the item was completed has come (never in the step completing it)."""
    if ctx.pending.get("follow_up_scheduled"):
        return False
    due = ctx.obj.follow_up_due_on
    return due is not None and due <= conditions.today_of(ctx)


conditions.register("not_approved_by_actor", _not_approved_by_actor, _not_approved_by_actor_sql)
conditions.register("not_responsible_staff", _not_responsible_staff, _not_responsible_staff_sql)
conditions.register("approval_policy_met", _approval_policy_met)
conditions.register("measures_closed", _measures_closed)
conditions.register("overdue", _overdue, lambda _user, model, today: model.deadline < today)
conditions.register(
    "due_soon",
    _due_soon,
    lambda _user, model, today: model.deadline.between(today, today + timedelta(days=DUE_SOON_DAYS)),
)
conditions.register(
    "not_under_review", _not_under_review, lambda _u, model, _t: model.state != "pending_review"
)
conditions.register(
    "follow_up_due", _follow_up_due, lambda _user, model, today: model.follow_up_due_on <= today
)


# --- hooks ----------------------------------------------------------------------------------

#: Called as listener(step, actor, item) for each step an item takes, in its transaction,
#: after the step's own rows (portal.notifications.triggers registers one).
STEP_LISTENERS: list[Callable[[Step, Actor, RectificationItem], None]] = []


class ItemHooks(WorkflowHooks):
    object_type = "item"
    action_prefix = "workflow"

    def requirements(self, transition, item, ctx, evidence_ids) -> dict[str, str]:
        action = transition_title(transition)
        missing = {}
        if transition.evidence_required and not evidence_ids:
            missing["evidence"] = _(
                "At least one piece of evidence (佐证材料) is required before “%(action)s”.", action=action
            )
        if "completion_summary" in transition.requirements and not item.completion_summary.strip():
            missing["completion_summary"] = _(
                "The completion summary (整改成效) must be filled in before “%(action)s”.", action=action
            )
        if "record_approval" in transition.effects:
            problem = dual_review_problem(item.inspection, [item.responsible_leader_id])
            if problem:
                missing["dual_review"] = problem
        return missing

    def evidence_ids(self, transition, item) -> list[int]:
        return active_evidence_ids(item) if transition.evidence_required else []

    def on_step(self, step, ctx) -> None:
        if "record_approval" in step.transition.effects:
            ctx.pending.setdefault("approvals", set()).add(ctx.user.id)
        if "schedule_follow_up_check" in step.transition.effects:
            ctx.pending.setdefault("follow_up_scheduled", set()).add(step.transition.id)

    def values(self, steps, comment, item) -> dict:
        """回头看: completing schedules the follow-up check, entering it takes it off the calendar
        (the last step that does either decides)."""
        values = {}
        for step in steps:
            if "schedule_follow_up_check" in step.transition.effects:
                values["follow_up_due_on"] = add_months(local_today(), item.inspection.follow_up_months)
            if "begin_follow_up_check" in step.transition.effects:
                values["follow_up_due_on"] = None
        return values

    def write_step(self, step, actor, item) -> None:
        effects = step.transition.effects
        if "record_approval" in effects:
            db.session.add(Approval(item_id=item.id, user_id=actor.id, approved_at=utcnow()))
            db.session.flush()
        if "clear_approvals" in effects:
            db.session.execute(
                sa.update(Approval)
                .where(Approval.item_id == item.id, Approval.cleared_at.is_(None))
                .values(cleared_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        for listener in STEP_LISTENERS:
            listener(step, actor, item)


register_hooks(RectificationItem, ItemHooks())


class InspectionHooks(WorkflowHooks):
    """An inspection only moves (withdrawn, restored): nothing beyond its history and event."""

    object_type = "inspection"
    action_prefix = "workflow"


register_hooks(Inspection, InspectionHooks())
