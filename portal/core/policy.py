"""The one policy: may this user do this on this object? (Plone's permission check.)

Roles on an object = the account's global roles + local roles granted on the object and on what
it acquires from (inherited downward unless an object blocks inheritance) + roles that follow
from the object's own fields + Anonymous/Authenticated. A permission is held when any of those
roles holds it in the object's current state of a workflow that governs it (or in the fixed map
of a type without a workflow). Everything here is read from the content types' declarations
(portal.core.content) and the workflow definitions; portal.core.filters builds the same answer
in SQL, and a property test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g, has_request_context, request
from flask_login import AnonymousUserMixin

from portal.core import conditions
from portal.core.content import (
    can_block,
    derived_roles_of,
    field_permission,
    fixed_permissions,
    hops,
    permission_target,
    sharing_type,
    suspended_via,
    suspending_states,
    workflows_of,
)
from portal.core.extensions import db
from portal.core.models import LocalRole
from workflows import ENGINES, State, Transition, Workflow

#: The public: whoever is not signed in (what public pages load documents as).
ANONYMOUS = AnonymousUserMixin()


def is_signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def principal_clause(user):
    """Grants that reach `user`: made to the account or to its department."""
    clause = LocalRole.user_id == user.id
    if user.department_id is not None:
        clause = sa.or_(clause, LocalRole.department_id == user.department_id)
    return clause


def grant_scope(obj) -> list[tuple[str, int]]:
    """The (object type, id) pairs whose grants reach `obj`: itself and unblocked ancestors."""
    cls = type(obj)
    scope = [(sharing_type(cls), obj.id)]
    if can_block(cls) and obj.local_roles_blocked:
        return scope
    for hop in hops(cls):
        parent_id = getattr(obj, hop.foreign_key)
        if parent_id is None:
            continue
        scope.append((sharing_type(hop.target), parent_id))
        if can_block(hop.target) and getattr(obj, hop.relationship).local_roles_blocked:
            break
    return scope


def _grants_memo() -> dict | None:
    """The grants looked up during this GET (or HEAD) request, or None outside one.

    A page asks `can()` about the same objects many times (the item page: its actions, its
    panels, the menu); the grants reaching one object are read once per request. Only a safe
    request keeps them (one that writes may grant or revoke meanwhile), and a flush that writes
    a grant forgets them all (see _forget_grants).
    """
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return None
    current = request._get_current_object()
    held = g.get("granted_roles")
    if held is None or held[0] is not current:  # (an app context may outlive a request)
        held = g.granted_roles = (current, {})
    return held[1]


@sa.event.listens_for(so.Session, "after_flush")
def _forget_grants(session, _context) -> None:
    if has_request_context() and g.get("granted_roles") is not None:
        changed = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(row, LocalRole) for row in changed):
            g.granted_roles[1].clear()


def granted_roles(user, obj) -> set[str]:
    if sharing_type(type(obj)) is None:
        return set()
    scope = tuple(grant_scope(obj))
    memo = _grants_memo()
    key = (user.id, user.department_id, scope)
    if memo is not None and key in memo:
        return set(memo[key])
    where = sa.or_(*(sa.and_(LocalRole.object_type == t, LocalRole.object_id == i) for t, i in scope))
    found = set(db.session.scalars(sa.select(LocalRole.role).where(principal_clause(user), where)))
    if memo is not None:
        memo[key] = frozenset(found)
    return found


def derived_roles(user, obj) -> set[str]:
    """Roles that follow from the object's own fields (see DerivedRole)."""
    held: set[str] = set()
    for rule in derived_roles_of(type(obj)):
        row = getattr(obj, rule.via) if rule.via else obj
        if (
            row is not None
            and getattr(row, rule.column) == user.id
            and all(getattr(row, column) == value for column, value in rule.when)
        ):
            held.update(rule.roles)
    return held


def roles_on(user, obj) -> frozenset[str]:
    """Every role `user` holds on `obj`."""
    obj = permission_target(obj)
    if not is_signed_in(user):
        return frozenset({"Anonymous"})
    return frozenset(
        {"Anonymous", "Authenticated"} | user.roles | granted_roles(user, obj) | derived_roles(user, obj)
    )


@dataclass(frozen=True)
class Suspension:
    """The suspending state (withdrawn, say) that holds an object: its own, or acquired."""

    workflow: Workflow
    state: State
    own: bool


def suspension(obj) -> Suspension | None:
    """What suspends `obj`: a suspending state of its own workflows, else of an object it is
    `__suspended_via__` (an item of a withdrawn inspection); None when nothing does."""
    cls = type(obj)
    for wf, ids in suspending_states(cls):
        state_id = getattr(obj, wf.state_attribute)
        if state_id in ids:
            return Suspension(wf, wf.state(state_id), own=True)
    for name, _key, _target in suspended_via(cls):
        parent = getattr(obj, name)
        found = suspension(parent) if parent is not None else None
        if found is not None:
            return Suspension(found.workflow, found.state, own=False)
    return None


def workflow_active(obj, workflow: Workflow) -> bool:
    """May `workflow` move `obj` now? Not while something else suspends it."""
    held = suspension(obj)
    return held is None or (held.own and held.workflow.id == workflow.id)


def permission_in(obj, permission: str, held: frozenset[str]) -> bool:
    """Does any role in `held` hold `permission` on `obj` in its current state(s)?

    A suspending state's map is then the only one; otherwise any governing workflow's state
    or the type's fixed map grants it.
    """
    suspended = suspension(obj)
    if suspended is not None:
        return not held.isdisjoint(suspended.state.roles_with(permission))
    return any(
        ENGINES[wf.id].has_permission(permission, getattr(obj, wf.state_attribute), held)
        for wf in workflows_of(type(obj))
        if permission in wf.permissions
    ) or not held.isdisjoint(fixed_permissions(type(obj)).get(permission, ()))


def has_permission(user, permission: str, obj, held: frozenset[str] | None = None) -> bool:
    """May `user` exercise `permission` on `obj` in its current state?"""
    obj = permission_target(obj)
    return permission_in(obj, permission, roles_on(user, obj) if held is None else held)


can = has_permission


class PolicyContext:
    """What a workflow guard asks about one user acting on one object (every workflow)."""

    def __init__(self, user, obj, today=None):
        self.user, self.obj, self.today = user, obj, today
        #: what steps computed but not yet written note here (an approval, say)
        self.pending: dict[str, set] = {}

    @cached_property
    def _roles(self) -> frozenset[str]:
        return roles_on(self.user, self.obj)

    def roles(self) -> frozenset[str]:
        return self._roles

    def condition(self, name: str) -> bool:
        return conditions.evaluate(name, self)


def guard_allows(guard, obj, ctx: PolicyContext, workflow) -> bool:
    """A worklist guard of `workflow` on `obj`, read as the engine reads a transition guard:
    a permission in the object's state of that workflow, a role held, every condition."""
    return workflow_active(obj, workflow) and ENGINES[workflow.id].guard_passes(
        guard, getattr(obj, workflow.state_attribute), ctx
    )


def workflow_defining(cls: type, transition_id: str):
    """The workflow of `cls` that defines `transition_id`, or None."""
    return next((wf for wf in workflows_of(cls) if wf.has_transition(transition_id)), None)


def allowed_transitions(user, obj) -> list[Transition]:
    """The transitions `user` may fire on `obj` now (every workflow of it, manual ones only)."""
    if not is_signed_in(user):
        return []
    ctx = PolicyContext(user, obj)
    return [
        t
        for wf in workflows_of(type(obj))
        if workflow_active(obj, wf)
        for t in ENGINES[wf.id].available(obj, ctx)
    ]


def refused_fields(user, obj, values: dict) -> list[str]:
    """The fields in `values` that would change and whose permission (`__field_permissions__`)
    `user` lacks on `obj` ([] for system actors, who have no user)."""
    if user is None:
        return []
    cls = type(obj)
    return [
        name
        for name, value in values.items()
        if field_permission(cls, name) != "edit"
        and getattr(obj, name) != value
        and not can(user, field_permission(cls, name), obj)
    ]
