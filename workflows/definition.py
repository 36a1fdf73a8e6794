"""Declaring a workflow as data: states with permission maps, guarded transitions, worklists.

The guard rule is Plone's (DCWorkflow): a transition is allowed when the user holds *any* of
its permissions in the current state, *any* of its roles, and *every* named condition holds.
An empty part of a guard is no restriction, but a guard must restrict something.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class WorkflowDefinitionError(ValueError):
    """A workflow definition that cannot be run; the message names the problem."""


@dataclass(frozen=True)
class Guard:
    permissions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.permissions or self.roles or self.conditions)


@dataclass(frozen=True)
class State:
    id: str
    title_zh: str
    title_en: str
    #: permission -> roles that hold it while an object is in this state
    permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: While an object is in a suspending state (withdrawn, say), this state's permission map
    #: is the only one that applies to it and to what it contains; the other workflows'
    #: transitions and worklists leave it alone until it leaves the state.
    suspends: bool = False

    def roles_with(self, permission: str) -> frozenset[str]:
        return self.permissions.get(permission, frozenset())


@dataclass(frozen=True)
class Transition:
    id: str
    title_zh: str
    title_en: str
    sources: tuple[str, ...]
    dest: str | None  # None: stay in the same state (records an action, changes nothing else)
    guard: Guard
    comment_required: bool = False
    evidence_required: bool = False
    automatic: bool = False
    #: named checks that must pass before firing; failing ones are reported to the user by name
    requirements: tuple[str, ...] = ()
    #: named effects the portal applies with the step (recording an approval, say)
    effects: tuple[str, ...] = ()

    @property
    def stays(self) -> bool:
        return self.dest is None


@dataclass(frozen=True)
class Worklist:
    id: str
    title_zh: str
    title_en: str
    states: tuple[str, ...]
    guard: Guard


@dataclass(frozen=True)
class Workflow:
    id: str
    title_zh: str
    title_en: str
    state_attribute: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    worklists: tuple[Worklist, ...] = ()

    def __post_init__(self) -> None:
        validate(self)

    def state(self, state_id: str) -> State:
        for state in self.states:
            if state.id == state_id:
                return state
        raise KeyError(f"workflow {self.id!r} has no state {state_id!r}")

    def transition(self, transition_id: str) -> Transition:
        for transition in self.transitions:
            if transition.id == transition_id:
                return transition
        raise KeyError(f"workflow {self.id!r} has no transition {transition_id!r}")

    def has_transition(self, transition_id: str) -> bool:
        return any(t.id == transition_id for t in self.transitions)

    def transitions_from(self, state_id: str) -> list[Transition]:
        return [t for t in self.transitions if state_id in t.sources]

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(p for s in self.states for p in s.permissions)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def _duplicates(ids: Iterable[str]) -> list[str]:
    seen, dup = set(), []
    for i in ids:
        if i in seen:
            dup.append(i)
        seen.add(i)
    return dup


def validate(wf: Workflow) -> None:
    """Raise WorkflowDefinitionError naming the first problem found in `wf`."""
    where = f"workflow {wf.id!r}"
    state_ids = [s.id for s in wf.states]
    for kind, ids in (
        ("state", state_ids),
        ("transition", [t.id for t in wf.transitions]),
        ("worklist", [w.id for w in wf.worklists]),
    ):
        if dup := _duplicates(ids):
            raise WorkflowDefinitionError(f"{where}: duplicate {kind} id {dup[0]!r}")
    known = set(state_ids)
    if wf.initial not in known:
        raise WorkflowDefinitionError(f"{where}: initial state {wf.initial!r} is not a state")
    permissions = wf.permissions
    for t in wf.transitions:
        if not t.sources:
            raise WorkflowDefinitionError(f"{where}: transition {t.id!r} has no source state")
        for s in (*t.sources, *([t.dest] if t.dest else [])):
            if s not in known:
                raise WorkflowDefinitionError(f"{where}: transition {t.id!r} refers to unknown state {s!r}")
        if not t.guard:
            raise WorkflowDefinitionError(f"{where}: transition {t.id!r} has no guard")
        for p in t.guard.permissions:
            if p not in permissions:
                raise WorkflowDefinitionError(
                    f"{where}: transition {t.id!r} guards on permission {p!r}, which no state maps"
                )
        if t.automatic and (t.comment_required or t.evidence_required or t.requirements):
            raise WorkflowDefinitionError(
                f"{where}: automatic transition {t.id!r} cannot ask the user for anything"
            )
    for w in wf.worklists:
        for s in w.states:
            if s not in known:
                raise WorkflowDefinitionError(f"{where}: worklist {w.id!r} refers to unknown state {s!r}")
        if not w.guard:
            raise WorkflowDefinitionError(f"{where}: worklist {w.id!r} has no guard")
    reachable, frontier = {wf.initial}, [wf.initial]
    while frontier:
        current = frontier.pop()
        for t in wf.transitions_from(current):
            if t.dest and t.dest not in reachable:
                reachable.add(t.dest)
                frontier.append(t.dest)
    if unreachable := [s for s in state_ids if s not in reachable]:
        raise WorkflowDefinitionError(f"{where}: state {unreachable[0]!r} is unreachable from {wf.initial!r}")
