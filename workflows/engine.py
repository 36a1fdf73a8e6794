"""Running a workflow on `transitions`: one Machine per workflow, built once, fired on rows.

The Machine is built with `model=None` and `auto_transitions=False` (no `to_<state>()` that
would bypass the guards), and each event is fired on the object it concerns:
`machine.events[name].trigger(obj)`. The Machine computes destinations; the engine evaluates each
guard once (`check` for the manual transition, `run` for the automatic ones it sets off). After
every successful transition, automatic transitions fire until none applies (Plone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from transitions import Machine

from workflows.definition import Guard, Transition, Workflow

MAX_AUTOMATIC_STEPS = 20


class GuardContext(Protocol):
    """What a guard needs to know about the acting user and the object."""

    def roles(self) -> frozenset[str]:
        """Every role the user holds on the object (global, local, derived, pseudo)."""

    def condition(self, name: str) -> bool:
        """Evaluate the named condition now."""


class WorkflowError(Exception):
    def __init__(self, transition_id: str, message: str):
        super().__init__(message)
        self.transition_id = transition_id


class UnknownTransition(WorkflowError):
    """No transition of that id in this workflow."""


class TransitionNotAllowed(WorkflowError):
    """The transition exists but the user may not fire it on this object now."""


@dataclass(frozen=True)
class Step:
    transition: Transition
    from_state: str
    to_state: str


class WorkflowEngine:
    """Evaluates guards and fires transitions of one workflow."""

    def __init__(self, workflow: Workflow):
        self.workflow = workflow
        self.attribute = workflow.state_attribute
        # The Machine knows sources and destinations only: guards are evaluated by this engine,
        # once per transition considered, so that a condition never runs twice for one step.
        self.machine = Machine(
            model=None,
            states=[s.id for s in workflow.states],
            initial=workflow.initial,
            transitions=[
                {"trigger": t.id, "source": list(t.sources), "dest": t.dest} for t in workflow.transitions
            ],
            auto_transitions=False,
            send_event=True,
            model_attribute=workflow.state_attribute,
            ignore_invalid_triggers=False,
            name=workflow.id,
        )

    # --- questions ----------------------------------------------------------------------

    def state_of(self, obj) -> str:
        return getattr(obj, self.attribute)

    def has_permission(self, permission: str, state_id: str, held: frozenset[str]) -> bool:
        return not held.isdisjoint(self.workflow.state(state_id).roles_with(permission))

    def guard_passes(self, guard: Guard, state_id: str, ctx: GuardContext) -> bool:
        held = ctx.roles()
        if guard.permissions and not any(self.has_permission(p, state_id, held) for p in guard.permissions):
            return False
        if guard.roles and held.isdisjoint(guard.roles):
            return False
        return all(ctx.condition(name) for name in guard.conditions)

    def allows(self, transition: Transition, obj, ctx: GuardContext) -> bool:
        state = self.state_of(obj)
        return state in transition.sources and self.guard_passes(transition.guard, state, ctx)

    def available(self, obj, ctx: GuardContext) -> list[Transition]:
        """The transitions this user may fire by hand now, in definition order."""
        state = self.state_of(obj)
        return [
            t
            for t in self.workflow.transitions_from(state)
            if not t.automatic and self.guard_passes(t.guard, state, ctx)
        ]

    # --- firing -------------------------------------------------------------------------

    def check(self, transition_id: str, obj, ctx: GuardContext) -> Transition:
        """Return the manual transition `transition_id` if `ctx` may fire it on `obj` now.

        Raises UnknownTransition or TransitionNotAllowed. The guard is evaluated here, once.
        """
        if not self.workflow.has_transition(transition_id):
            raise UnknownTransition(transition_id, f"{self.workflow.id} has no transition {transition_id!r}")
        transition = self.workflow.transition(transition_id)
        if transition.automatic or not self.allows(transition, obj, ctx):
            raise TransitionNotAllowed(
                transition_id, f"{transition_id!r} is not allowed from {self.state_of(obj)!r} for this user"
            )
        return transition

    def run(
        self, obj, transition: Transition, ctx: GuardContext, on_step: Callable[[Step], None] | None = None
    ) -> list[Step]:
        """Apply a transition that `check` allowed, then every automatic one that applies.

        `obj` is what the engine moves (a holder of the state, not a stored row). `on_step`
        runs after each step, before automatic transitions are considered, so that it can note
        what the next guards look at (an approval, say). Automatic guards run once each.
        """
        steps: list[Step] = []
        self._trigger(obj, transition, on_step, steps)
        return self._automatic(obj, ctx, on_step, steps)

    def settle(self, obj, ctx: GuardContext, on_step: Callable[[Step], None] | None = None) -> list[Step]:
        """Fire the automatic transitions whose guards pass now, without a manual one first.

        What changes with time (a follow-up check falling due, say) is noticed by re-evaluating
        the automatic transitions (Plone does so on every change); the steps, or [] when none
        applies.
        """
        return self._automatic(obj, ctx, on_step, [])

    def _automatic(self, obj, ctx: GuardContext, on_step, steps: list[Step]) -> list[Step]:
        for _ in range(MAX_AUTOMATIC_STEPS):
            automatic = next(
                (
                    t
                    for t in self.workflow.transitions_from(self.state_of(obj))
                    if t.automatic and self.guard_passes(t.guard, self.state_of(obj), ctx)
                ),
                None,
            )
            if automatic is None:
                return steps
            self._trigger(obj, automatic, on_step, steps)
        raise RuntimeError(f"{self.workflow.id}: automatic transitions did not settle")

    def fire(
        self, obj, transition_id: str, ctx: GuardContext, on_step: Callable[[Step], None] | None = None
    ) -> list[Step]:
        """`check`, then `run`: fire a manual transition and the automatic ones it sets off."""
        return self.run(obj, self.check(transition_id, obj, ctx), ctx, on_step)

    def _trigger(self, obj, transition: Transition, on_step, steps: list[Step]) -> None:
        before = self.state_of(obj)
        self.machine.events[transition.id].trigger(obj)
        step = Step(transition, before, self.state_of(obj))
        steps.append(step)
        if on_step is not None:
            on_step(step)
