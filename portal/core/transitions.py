"""The one transition pipeline: `fire(actor, obj, transition)` for every workflow of every type.

1. The workflow defining the transition is found among the type's `__workflows__`.
2. The guard is evaluated once (`WorkflowEngine.check`), then the type's requirements (comment,
   evidence …) are checked; a refusal raises before anything is written.
3. The pure engine computes the steps (the manual transition and the automatic ones it sets
   off) on a detached holder of the state; hooks note in memory what later guards look at.
4. One conditional UPDATE on (id, expected state, expected version) writes the final state and
   the next version together; when another request got there first it matches no row and the
   caller gets a Conflict, having written nothing that it keeps.
5. Each step writes one history entry and one audit event, in the caller's transaction.
6. Side effects that reach outside the database run after the commit.

What differs between types (requirements, the rows a step writes, the audit action prefix) is a
`WorkflowHooks` registered by the feature that owns the type.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.audit.chain import Actor, Event, inspection_id_of, record_event, record_events, utcnow
from portal.core.bulk import insert_many
from portal.core.content import workflows_of
from portal.core.errors import Conflict, MissingRequirements, NotAllowed, NotFound
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.core.policy import PolicyContext, workflow_active, workflow_defining
from portal.core.titles import transition_title
from workflows import ENGINES, Step, Transition, TransitionNotAllowed, UnknownTransition

CONFLICT_MESSAGE = _l(
    "This item was changed by someone else in the meantime. Reload the page to see its current state."
)


class WorkflowHooks:
    """What one content type adds to the pipeline. The defaults suit a type that only moves."""

    #: the object type named by history entries and audit events
    object_type: str = ""
    #: audit actions are f"{action_prefix}.{transition id}"
    action_prefix: str = "workflow"
    conflict_message = CONFLICT_MESSAGE

    def requirements(
        self, transition: Transition, obj, ctx: PolicyContext, evidence_ids: list[int]
    ) -> dict[str, str]:
        """Missing input beyond a required comment: name -> message (`evidence_ids` as cited)."""
        return {}

    def evidence_ids(self, transition: Transition, obj) -> list[int]:
        """The evidence a manual step cites (recorded in its history entry)."""
        return []

    def on_step(self, step: Step, ctx: PolicyContext) -> None:
        """Note in `ctx.pending` what the next guards must see (pure: writes nothing)."""

    def values(self, steps: list[Step], comment: str, obj) -> dict[str, Any]:
        """Columns besides state and version that the one UPDATE sets (`obj` as it was before)."""
        return {}

    def write_step(self, step: Step, actor: Actor, obj) -> None:
        """Rows a step writes besides its history and audit event (after the claim)."""

    def after_step(self, step: Step, actor: Actor, obj, entry: WorkflowHistory) -> None:
        """What follows from a step once its history entry and audit event are written (telling
        people of it, say), in the same transaction; `entry` is the step's history entry."""

    def after_commit(self, steps: list[Step], actor: Actor, obj) -> Callable[[], None] | None:
        """Something to do once the transaction has committed (mail, say)."""
        return None


_HOOKS: dict[type, WorkflowHooks] = {}


def register_hooks(model: type, hooks: WorkflowHooks) -> None:
    _HOOKS[model] = hooks


def hooks_for(model: type) -> WorkflowHooks:
    try:
        return _HOOKS[model]
    except KeyError:
        raise LookupError(f"no workflow hooks registered for {model.__name__}") from None


class _Holder:
    """What the engine mutates: a detached copy of one workflow state, not the stored row."""

    def __init__(self, attribute: str, value: str):
        setattr(self, attribute, value)


def _missing(transition: Transition, comment: str, extra: dict[str, str]) -> dict[str, str]:
    missing = {}
    if transition.comment_required and not comment:
        missing["comment"] = _("A comment is required for “%(action)s”.", action=transition_title(transition))
    return missing | extra


def fire(
    actor: Actor, obj, transition_id: str, *, comment: str = "", expected_version: int | None = None
) -> list[Step]:
    """Fire `transition_id` on `obj` as `actor`; flush, never commit. Return the steps.

    Raises NotFound (no such transition), NotAllowed (guard), MissingRequirements (input) or
    Conflict (changed meanwhile); in every case nothing has been written.
    """
    model = type(obj)
    workflow = workflow_defining(model, transition_id)
    if workflow is None:
        raise NotFound(f"{model.__name__} has no transition {transition_id!r}")
    hooks, engine, attribute = hooks_for(model), ENGINES[workflow.id], workflow.state_attribute
    if not workflow_active(obj, workflow):
        raise NotAllowed(
            f"{model.__name__} {obj.id} is withdrawn: {transition_id!r} waits for its restoration"
        )
    if expected_version is not None and expected_version != obj.version:
        raise Conflict(str(hooks.conflict_message))
    ctx = PolicyContext(actor.user, obj)
    try:
        transition = engine.check(transition_id, obj, ctx)
    except UnknownTransition as exc:
        raise NotFound(str(exc)) from exc
    except TransitionNotAllowed as exc:
        raise NotAllowed(str(exc)) from exc
    comment = (comment or "").strip()
    evidence_ids = hooks.evidence_ids(transition, obj)
    missing = _missing(transition, comment, hooks.requirements(transition, obj, ctx, evidence_ids))
    if missing:
        raise MissingRequirements(missing)

    from_state, version = getattr(obj, attribute), obj.version
    holder = _Holder(attribute, from_state)
    steps = engine.run(holder, transition, ctx, on_step=lambda step: hooks.on_step(step, ctx))
    _write(actor, obj, workflow, steps, holder, version, comment=comment, evidence_ids=evidence_ids)
    return steps


def settle(actor: Actor, obj, *, today=None) -> list[Step]:
    """Fire the automatic transitions of `obj` whose guards pass now; flush, never commit.

    Guards that depend on time (a follow-up check falling due) are re-evaluated this way by
    whoever watches the clock (the supervision pass), with no user and no manual transition:
    the same conditional update, one history entry and one audit event per step (marked
    automatic), the same hooks. Raises Conflict when `obj` changed meanwhile. Return the steps
    taken, [] when nothing applied.
    """
    model, hooks = type(obj), hooks_for(type(obj))
    taken: list[Step] = []
    for workflow in workflows_of(model):
        if not workflow_active(obj, workflow):
            continue
        attribute, ctx = workflow.state_attribute, PolicyContext(actor.user, obj, today)
        holder, version = _Holder(attribute, getattr(obj, attribute)), obj.version
        steps = ENGINES[workflow.id].settle(holder, ctx, on_step=partial(hooks.on_step, ctx=ctx))
        if steps:
            _write(actor, obj, workflow, steps, holder, version, manual=False)
            taken += steps
    return taken


def settle_many(actor: Actor, objs: list, *, today=None) -> dict[int, list[Step]]:
    """`settle` for many objects of one type at once, in a handful of statements instead of
    several per object (the supervision pass settles hundreds): one conditional UPDATE … RETURNING
    per group of objects taking the same steps with the same values, one INSERT of all their
    history entries, and the same hooks, history entries and audit events as `settle`, in the
    order of `objs` (each phase for all objects in turn: every claim, then every `write_step`,
    every history entry, every audit event, every `after_step`). An object that another writer
    changed meanwhile matches no row and is left out (where `settle` raises Conflict). Flush, never commit.

    Return the steps taken per object id, for the objects that took any.
    """
    if not objs:
        return {}
    model, hooks = type(objs[0]), hooks_for(type(objs[0]))
    taken: dict[int, list[Step]] = {}
    for workflow in workflows_of(model):
        attribute, moves = workflow.state_attribute, []
        for obj in objs:
            if not workflow_active(obj, workflow):
                continue
            ctx = PolicyContext(actor.user, obj, today)
            holder, version = _Holder(attribute, getattr(obj, attribute)), obj.version
            steps = ENGINES[workflow.id].settle(holder, ctx, on_step=partial(hooks.on_step, ctx=ctx))
            if steps:
                moves.append(
                    (
                        obj,
                        steps,
                        version,
                        {attribute: getattr(holder, attribute), **hooks.values(steps, "", obj)},
                    )
                )
        claimed = _claim_many(model, attribute, moves)
        moves = [move for move in moves if move[0].id in claimed]
        for obj, steps, version, values in moves:
            _now_stored(obj, {**values, "version": version + 1})
            for step in steps:
                hooks.write_step(step, actor, obj)
        entries = [
            {
                "object_type": hooks.object_type,
                "object_id": obj.id,
                "workflow": workflow.id,
                "action": step.transition.id,
                "actor_id": actor.id,
                "comment": "",
                "from_state": step.from_state,
                "to_state": step.to_state,
                "at": utcnow(),
                "evidence_ids": [],
            }
            for obj, steps, _version, _values in moves
            for step in steps
        ]
        # (the entries as written, transient: the hooks and the payload read them)
        written = iter(
            [
                WorkflowHistory(id=history_id, **row)
                for row, history_id in zip(
                    entries, insert_many(WorkflowHistory.__table__, entries), strict=True
                )
            ]
        )
        done = [
            (obj, step, next(written), version) for obj, steps, version, _values in moves for step in steps
        ]
        record_events(
            actor,
            [
                Event(
                    f"{hooks.action_prefix}.{step.transition.id}",
                    hooks.object_type,
                    obj.id,
                    _step_payload(workflow, step, entry, version, automatic=True),
                    inspection_id_of(obj),
                )
                for obj, step, entry, version in done
            ],
        )
        for obj, step, entry, _version in done:
            hooks.after_step(step, actor, obj, entry)
        for obj, steps, _version, _values in moves:
            later = hooks.after_commit(steps, actor, obj)
            if later is not None:
                run_after_commit(later)
            taken.setdefault(obj.id, []).extend(steps)
    return taken


def _claim_many(model, attribute: str, moves: list) -> set[int]:
    """Claim each (obj, steps, version, values) of `moves` by one conditional UPDATE per group
    that sets the same values from the same state; the ids whose row matched."""
    groups: dict[tuple, list] = {}
    for obj, steps, version, values in moves:
        key = (steps[0].from_state, tuple(sorted(values.items(), key=lambda kv: kv[0])))
        groups.setdefault(key, []).append((obj.id, version))
    claimed: set[int] = set()
    for (from_state, values), pairs in groups.items():
        for start in range(0, len(pairs), 500):
            claimed.update(
                db.session.scalars(
                    sa.update(model)
                    .where(
                        sa.tuple_(model.id, model.version).in_(pairs[start : start + 500]),
                        getattr(model, attribute) == from_state,
                    )
                    .values({**dict(values), "version": model.version + 1})
                    .returning(model.id)
                    .execution_options(synchronize_session=False)
                )
            )
    return claimed


def _step_payload(workflow, step: Step, entry: WorkflowHistory, version: int, *, automatic: bool) -> dict:
    """The audit payload of one step (`version`: the object's version before the claim)."""
    return {
        "workflow": workflow.id,
        "transition": step.transition.id,
        "automatic": automatic,
        "from": step.from_state,
        "to": step.to_state,
        "comment": entry.comment,
        "evidence_ids": entry.evidence_ids,
        "version": version + 1,
        "history_id": entry.id,
    }


def _write(
    actor: Actor,
    obj,
    workflow,
    steps: list[Step],
    holder: _Holder,
    version: int,
    *,
    comment: str = "",
    evidence_ids: list[int] | None = None,
    manual: bool = True,
) -> None:
    """Claim the row conditionally, then write each step's rows, history entry and audit event.

    `manual`: the first step is the user's transition (it carries the comment and evidence).
    """
    model, hooks, attribute = type(obj), hooks_for(type(obj)), workflow.state_attribute
    from_state, evidence_ids = steps[0].from_state, evidence_ids or []
    values = {
        attribute: getattr(holder, attribute),
        "version": version + 1,
        **hooks.values(steps, comment, obj),
    }
    claimed = db.session.execute(
        sa.update(model)
        .where(model.id == obj.id, getattr(model, attribute) == from_state, model.version == version)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(str(hooks.conflict_message))
    _now_stored(obj, values)

    inspection_id = inspection_id_of(obj)
    for step in steps:
        hooks.write_step(step, actor, obj)
        by_hand = manual and step is steps[0]
        entry = WorkflowHistory(
            object_type=hooks.object_type,
            object_id=obj.id,
            workflow=workflow.id,
            action=step.transition.id,
            actor_id=actor.id,
            comment=comment if by_hand else "",
            from_state=step.from_state,
            to_state=step.to_state,
            at=utcnow(),
            evidence_ids=evidence_ids if by_hand else [],
        )
        db.session.add(entry)
        db.session.flush()
        record_event(
            actor,
            f"{hooks.action_prefix}.{step.transition.id}",
            hooks.object_type,
            obj.id,
            _step_payload(workflow, step, entry, version, automatic=not by_hand),
            inspection_id=inspection_id,
        )
        hooks.after_step(step, actor, obj, entry)
    later = hooks.after_commit(steps, actor, obj)
    if later is not None:
        run_after_commit(later)


def _now_stored(obj, values: dict[str, Any]) -> None:
    """Make `obj` show what the claim wrote, as if loaded (no reload: a pass settles hundreds of
    objects); its relationships are expired, since a step may have written related rows."""
    for key, value in values.items():
        so.attributes.set_committed_value(obj, key, value)
    relationships = sa.inspect(type(obj)).relationships.keys()
    if relationships:
        db.session.expire(obj, relationships)


# --- side effects after the commit ------------------------------------------------------------

_PENDING = "rectify_after_commit"


def run_after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction commits; drop it if it rolls back.

    Call it inside the transaction whose commit it waits for (after its first statement).
    """
    db.session.info.setdefault(_PENDING, []).append(callback)


_UNDO = "rectify_after_rollback"


def run_after_rollback(callback: Callable[[], None]) -> None:
    """Run `callback` if the current transaction ends without a commit; drop it on commit.

    For what a write leaves outside the database (a stored evidence file): undone when the rows
    that would name it are not kept.
    """
    db.session.info.setdefault(_UNDO, []).append(callback)


@sa.event.listens_for(so.Session, "after_commit")
def _after_commit(session) -> None:
    session.info.pop(_UNDO, None)
    for callback in session.info.pop(_PENDING, []):
        callback()


@sa.event.listens_for(so.Session, "after_transaction_end")
def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None:  # the outermost one ended without a commit: forget, undo
        session.info.pop(_PENDING, None)
        for callback in session.info.pop(_UNDO, []):
            callback()
