"""Firing a transition on an item: guard, requirements, conditional update, history, audit.

A transition claims the item with a conditional UPDATE on (id, expected state, expected
version). If another request got there first, the UPDATE matches no row and the caller gets a
Conflict, having written nothing. Each step (the manual transition and any automatic ones it
sets off) writes one history entry and one audit event in the caller's transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.audit.chain import Actor, record_event, utcnow
from portal.errors import OperationError
from portal.extensions import db
from portal.inspections.models import RectificationItem
from portal.workflow.models import Approval, WorkflowHistory
from portal.workflow.policy import ItemContext, active_evidence_ids, workflow_of
from workflows import ENGINES, Step, Transition, TransitionNotAllowed, UnknownTransition


class Conflict(OperationError):
    """The item changed since the user loaded it (HTTP 409)."""


class MissingRequirements(OperationError):
    """The transition needs input the user did not give.

    `missing` maps what is missing ("comment", "evidence", "completion_summary") to a message.
    """

    def __init__(self, missing: dict[str, str]):
        super().__init__(" ".join(missing.values()))
        self.missing = missing


class _StateHolder:
    """What the engine mutates: a detached copy of one workflow state, not the ORM row."""

    def __init__(self, attribute: str, value: str):
        setattr(self, attribute, value)


def _missing_requirements(transition: Transition, item: RectificationItem, comment: str,
                          evidence_ids: list[int]) -> dict[str, str]:
    action = transition_title(transition)
    missing = {}
    if transition.comment_required and not comment:
        missing["comment"] = _("A comment is required for “%(action)s”.", action=action)
    if transition.evidence_required and not evidence_ids:
        missing["evidence"] = _("At least one piece of evidence (佐证材料) is required before "
                                "“%(action)s”.", action=action)
    if "completion_summary" in transition.requirements and not item.completion_summary.strip():
        missing["completion_summary"] = _("The completion summary (整改成效) must be filled in "
                                          "before “%(action)s”.", action=action)
    return missing


def transition_title(transition: Transition) -> str:
    return transition.title_zh if str(get_locale()).startswith("zh") else transition.title_en


CONFLICT_MESSAGE = _l("This item was changed by someone else in the meantime. Reload the page to "
                      "see its current state.")


def claim_version(item: RectificationItem, expected: int, attribute: str | None = None,
                  state: str | None = None) -> int:
    """Bump the item's version from `expected` (and check a state) in one conditional UPDATE.

    Raises Conflict when another transaction changed the item first; returns the new version.
    """
    conditions = [RectificationItem.id == item.id, RectificationItem.version == expected]
    if attribute is not None:
        conditions.append(getattr(RectificationItem, attribute) == state)
    claimed = db.session.execute(
        sa.update(RectificationItem).where(*conditions).values(version=expected + 1)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise Conflict(str(CONFLICT_MESSAGE))
    return expected + 1


def fire_transition(user, item: RectificationItem, transition_id: str, *, comment: str = "",
                    expected_version: int | None = None) -> list[Step]:
    """Fire `transition_id` on `item` as `user`; flush, never commit.

    Raises UnknownTransition (404), TransitionNotAllowed (403), MissingRequirements (400) or
    Conflict (409); in every case nothing has been written.
    """
    workflow = workflow_of(transition_id)
    if workflow is None:
        raise UnknownTransition(transition_id, f"no item transition {transition_id!r}")
    engine, attribute = ENGINES[workflow.id], workflow.state_attribute
    if expected_version is not None and expected_version != item.version:
        raise Conflict(str(CONFLICT_MESSAGE))
    transition = workflow.transition(transition_id)
    ctx = ItemContext(user, item)
    if transition.automatic or not engine.allows(transition, item, ctx):
        raise TransitionNotAllowed(transition_id, "not allowed")
    comment = (comment or "").strip()
    evidence_ids = active_evidence_ids(item) if transition.evidence_required else []
    missing = _missing_requirements(transition, item, comment, evidence_ids)
    if missing:
        raise MissingRequirements(missing)

    from_state, version = getattr(item, attribute), item.version
    claim_version(item, version, attribute, from_state)

    actor = Actor.of(user)
    holder = _StateHolder(attribute, from_state)

    def record(step: Step) -> None:
        _apply_side_effects(step, user, item)
        manual = step.transition.id == transition_id
        entry = WorkflowHistory(
            object_type="item", object_id=item.id, workflow=workflow.id,
            action=step.transition.id, actor_id=user.id, comment=comment if manual else "",
            from_state=step.from_state, to_state=step.to_state, at=utcnow(),
            evidence_ids=evidence_ids if manual else [])
        db.session.add(entry)
        db.session.flush()
        record_event(actor, f"workflow.{step.transition.id}", "item", item.id, {
            "workflow": workflow.id, "transition": step.transition.id, "automatic": not manual,
            "from": step.from_state, "to": step.to_state, "comment": entry.comment,
            "evidence_ids": entry.evidence_ids, "version": version + 1, "history_id": entry.id},
            inspection_id=item.inspection_id)

    steps = engine.fire(holder, transition_id, ctx, on_step=record)
    db.session.execute(
        sa.update(RectificationItem).where(RectificationItem.id == item.id)
        .values({attribute: getattr(holder, attribute)})
        .execution_options(synchronize_session=False))
    db.session.expire(item)
    return steps


def _apply_side_effects(step: Step, user, item: RectificationItem) -> None:
    """What a step does besides changing state: approvals are recorded or cleared."""
    if step.transition.id == "approve":
        db.session.add(Approval(item_id=item.id, user_id=user.id, approved_at=utcnow()))
        db.session.flush()
    elif step.transition.id in ("return", "reopen"):
        db.session.execute(
            sa.update(Approval).where(Approval.item_id == item.id, Approval.cleared_at.is_(None))
            .values(cleared_at=utcnow()).execution_options(synchronize_session=False))
