"""The policy as SQL: which rows of a content type may this user see, work on, review …

Generated from the same declarations as portal.core.policy (acquisition, derived roles, the
workflows' state permission maps, fixed container permissions) and the same grant table; no
state, role or content type is named here. Each EXISTS sits directly under the row's query, so
it correlates to that row and databases can use the grant and state indexes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa

from portal.core import conditions
from portal.core.content import (
    can_block,
    derived_roles_of,
    fixed_permissions,
    hops,
    permission_target_class,
    sharing_type,
    via,
    workflows_of,
)
from portal.core.models import LocalRole
from portal.core.policy import is_signed_in, principal_clause
from workflows.roles import LOCAL_ROLES


def _user_roles(user) -> frozenset[str]:
    if not is_signed_in(user):
        return frozenset({"Anonymous"})
    return frozenset({"Anonymous", "Authenticated"} | user.roles)


def _granted(user, model: type, roles: list[str]) -> sa.ColumnElement[bool]:
    """A local grant of one of `roles` reaches the row: on itself or an unblocked ancestor."""
    kind = sharing_type(model)
    if kind is None or not roles or not is_signed_in(user):
        return sa.false()

    def grant_on(object_type: str, id_column) -> sa.ColumnElement[bool]:
        return sa.exists().where(principal_clause(user), LocalRole.role.in_(roles),
                                 LocalRole.object_type == object_type,
                                 LocalRole.object_id == id_column)

    reach = [grant_on(kind, model.id)]
    open_path: list[sa.ColumnElement[bool]] = []
    if can_block(model):
        open_path.append(sa.not_(model.local_roles_blocked))
    for hop in hops(model):
        key = getattr(model, hop.foreign_key)
        reach.append(sa.and_(*open_path, grant_on(sharing_type(hop.target), key)))
        if can_block(hop.target):
            open_path.append(~sa.exists().where(hop.target.id == key,
                                                hop.target.local_roles_blocked))
    return sa.or_(*reach)


def _derived(user, model: type, roles: frozenset[str]) -> list[sa.ColumnElement[bool]]:
    if not is_signed_in(user):
        return []
    clauses = []
    for rule in derived_roles_of(model):
        if roles.isdisjoint(rule.roles):
            continue
        if rule.via:
            key, target = via(model, rule.via)
            clauses.append(sa.exists().where(
                target.id == getattr(model, key), getattr(target, rule.column) == user.id,
                *(getattr(target, column) == value for column, value in rule.when)))
        else:
            clauses.append(sa.and_(getattr(model, rule.column) == user.id,
                                   *(getattr(model, column) == value
                                     for column, value in rule.when)))
    return clauses


def holds_any(user, model: type, roles) -> sa.ColumnElement[bool]:
    """SQL: `user` holds one of `roles` on the row (globally, by a grant, or by its fields)."""
    roles = frozenset(roles)
    if not roles.isdisjoint(_user_roles(user)):
        return sa.true()
    local = sorted(roles & set(LOCAL_ROLES))
    return sa.or_(sa.false(), *([_granted(user, model, local)] if local else []),
                  *_derived(user, model, roles))


def permitted(user, model: type, permission: str) -> sa.ColumnElement[bool]:
    """SQL: `user` has `permission` on the row in its current state (see policy.has_permission)."""
    target, key = permission_target_class(model)
    if key is not None:
        return sa.exists().where(target.id == getattr(model, key),
                                 permitted(user, target, permission))
    governing = workflows_of(model)
    if not governing:
        return holds_any(user, model, fixed_permissions(model).get(permission, ()))
    clauses = []
    for wf in governing:
        if permission not in wf.permissions:
            continue
        states_by_roles: dict[frozenset[str], list[str]] = defaultdict(list)
        for state in wf.states:
            states_by_roles[state.roles_with(permission)].append(state.id)
        column = getattr(model, wf.state_attribute)
        for roles, states in states_by_roles.items():
            holds = holds_any(user, model, roles) if roles else sa.false()
            every_state = len(states) == len(wf.states)
            clauses.append(holds if every_state else sa.and_(column.in_(states), holds))
    return sa.or_(sa.false(), *clauses)


def visible(user, model: type) -> sa.ColumnElement[bool]:
    """SQL: rows of `model` that `user` may view."""
    return permitted(user, model, "view")


def guard_clause(user, model: type, guard, today: date) -> sa.ColumnElement[bool]:
    """SQL for a worklist guard: any permission, any role, every named condition."""
    parts = []
    if guard.permissions:
        parts.append(sa.or_(*(permitted(user, model, p) for p in guard.permissions)))
    if guard.roles:
        parts.append(holds_any(user, model, guard.roles))
    parts += [conditions.clause(name, user, model, today) for name in guard.conditions]
    return sa.and_(sa.true(), *parts)
