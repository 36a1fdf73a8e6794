"""The policy as SQL: which rows of a content type may this user see, work on, review …

Generated from the same declarations as portal.core.policy (acquisition, derived roles, the
workflows' state permission maps, fixed container permissions) and the same grant table; no
state, role or content type is named here. Each EXISTS sits directly under the row's query, so
it correlates to that row and databases can use the grant and state indexes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g, has_app_context, has_request_context, request
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BooleanClauseList, ColumnClause
from sqlalchemy.sql.visitors import iterate

from portal.core import conditions
from portal.core.content import (
    can_block,
    derived_roles_of,
    fixed_permissions,
    hops,
    permission_target_class,
    sharing_type,
    suspended_via,
    suspending_states,
    via,
    workflows_of,
)
from portal.core.extensions import db
from portal.core.models import LocalRole
from portal.core.policy import is_signed_in
from workflows import WORKFLOWS
from workflows.roles import LOCAL_ROLES

FALSE, TRUE = sa.false(), sa.true()


def _any(*parts: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """OR, with constants folded: a clause that cannot hold is left out, one that always holds
    makes the whole. SQLAlchemy folds only a bare false() (never an AND that holds one), and a
    planner given `0 = 1 OR …` inside an AND cannot use its indexes for the OR."""
    kept = [p for p in parts if p is not FALSE]
    if any(p is TRUE for p in kept):
        return TRUE
    return FALSE if not kept else kept[0] if len(kept) == 1 else sa.or_(*kept)


def all_of(*parts: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """AND, with constants folded (see _any), nested ANDs flattened and a term that is already
    there left out (a worklist's guard and its permission both say "not suspended": the
    database would test it twice on every row)."""
    kept: list[sa.ColumnElement[bool]] = []
    for part in _and_terms(parts):
        if part is FALSE:
            return FALSE
        if part is not TRUE and not any(_same_term(part, k) for k in kept):
            kept.append(part)
    return TRUE if not kept else kept[0] if len(kept) == 1 else sa.and_(*kept)


def _same_term(a: sa.ColumnElement[bool], b: sa.ColumnElement[bool]) -> bool:
    """The same condition on the same tables: compare() alone takes two anonymous aliases of
    one table for the same."""
    if a is b:
        return True
    return a.compare(b) and _tables_of(a) == _tables_of(b)


def _tables_of(term: sa.ColumnElement[bool]) -> frozenset[int]:
    """The tables and aliases (by identity) whose columns `term` reads."""
    return frozenset(
        id(c.table) for c in iterate(term) if isinstance(c, ColumnClause) and c.table is not None
    )


def _and_terms(parts) -> Iterator[sa.ColumnElement[bool]]:
    for part in parts:
        if isinstance(part, BooleanClauseList) and part.operator is operators.and_:
            yield from _and_terms(part.clauses)
        else:
            yield part


@dataclass(frozen=True)
class Who:
    """What the filters know of a user: account, department, global and pseudo roles, and the
    local grants that reach them ((object type, object id, role), to the account or to its
    department), read once per request.

    Filters are built per Who and cached: the same user with the same grants asking again
    reuses the construct; a grant made or revoked makes another Who, hence another filter.
    """

    id: int | None
    department_id: int | None
    roles: frozenset[str]
    grants: frozenset[tuple[str, int, str]] = frozenset()

    @classmethod
    def of(cls, user) -> Who:
        if not is_signed_in(user):
            return cls(None, None, frozenset({"Anonymous"}))
        roles = frozenset({"Anonymous", "Authenticated"} | user.roles)
        return cls(user.id, user.department_id, roles, _grants_of(user.id, user.department_id))

    @property
    def signed_in(self) -> bool:
        return self.id is not None


def _grants_memo() -> dict | None:
    """Where the grants read are remembered: for the request, or outside one (a command, a
    task) for the database transaction; None when neither is there."""
    if has_request_context():
        scope = request._get_current_object()
    elif has_app_context():
        scope = db.session().get_transaction()
        if scope is None:
            return None
    else:
        return None
    held = g.get("filter_grants")
    if held is None or held[0] is not scope:  # (an app context may outlive a request)
        held = g.filter_grants = (scope, {})
    return held[1]


def _grants_of(user_id: int, department_id: int | None) -> frozenset[tuple[str, int, str]]:
    """The grants reaching the account or its department, remembered for the request (a flush
    that writes a grant forgets them: see _forget_grants)."""
    memo = _grants_memo()
    if memo is not None and (user_id, department_id) in memo:
        return memo[user_id, department_id]
    principal = LocalRole.user_id == user_id
    if department_id is not None:
        principal = sa.or_(principal, LocalRole.department_id == department_id)
    rows = db.session.execute(
        sa.select(LocalRole.object_type, LocalRole.object_id, LocalRole.role).where(principal)
    ).all()
    found = frozenset((t, i, r) for t, i, r in rows)
    if memo is not None:
        memo[user_id, department_id] = found
    return found


@sa.event.listens_for(so.Session, "after_flush")
def _forget_grants(session, _context) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if (
        has_app_context()
        and g.get("filter_grants") is not None
        and any(isinstance(row, LocalRole) for row in changed)
    ):
        g.filter_grants[1].clear()


def _granted(who: Who, model: type, roles: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """A local grant of one of `roles` reaches the row: on itself or an unblocked ancestor.

    The user's grants are known (Who.grants), so each step is `column IN (granted ids)`, which
    the primary-key and foreign-key indexes answer, instead of a sub-query per row."""
    kind = sharing_type(model)
    if kind is None or not roles or not who.signed_in:
        return FALSE

    def granted_ids(object_type: str) -> list[int]:
        return sorted({i for t, i, role in who.grants if t == object_type and role in roles})

    reach = []
    if ids := granted_ids(kind):
        reach.append(model.id.in_(ids))
    open_path: list[sa.ColumnElement[bool]] = []
    if can_block(model):
        open_path.append(sa.not_(model.local_roles_blocked))
    for hop in hops(model):
        key = getattr(model, hop.foreign_key)
        if ids := granted_ids(sharing_type(hop.target)):
            reach.append(all_of(key.in_(ids), *open_path))
        if can_block(hop.target):
            open_path.append(~sa.exists().where(hop.target.id == key, hop.target.local_roles_blocked))
    return _any(*reach)


def _derived(who: Who, model: type, roles: frozenset[str]) -> list[sa.ColumnElement[bool]]:
    if not who.signed_in:
        return []
    clauses = []
    for rule in derived_roles_of(model):
        if roles.isdisjoint(rule.roles):
            continue
        if rule.via:
            key, target = via(model, rule.via)
            # `key IN (the targets' ids)`, not a correlated EXISTS: a planner can then answer an
            # OR of such terms from the key's index (SQLite's multi-index OR), as for the columns
            clauses.append(
                getattr(model, key).in_(
                    sa.select(target.id).where(
                        getattr(target, rule.column) == who.id,
                        *(getattr(target, column) == value for column, value in rule.when),
                    )
                )
            )
        else:
            clauses.append(
                all_of(
                    getattr(model, rule.column) == who.id,
                    *(getattr(model, column) == value for column, value in rule.when),
                )
            )
    return clauses


def holds_any(user, model: type, roles) -> sa.ColumnElement[bool]:
    """SQL: `user` holds one of `roles` on the row (globally, by a grant, or by its fields)."""
    return _holds_any(Who.of(user), model, frozenset(roles))


@lru_cache(maxsize=4096)
def _holds_any(who: Who, model: type, roles: frozenset[str]) -> sa.ColumnElement[bool]:
    if not roles.isdisjoint(who.roles):
        return TRUE
    local = tuple(sorted(roles & set(LOCAL_ROLES)))
    return _any(*([_granted(who, model, local)] if local else []), *_derived(who, model, roles))


def never_holds(user, model: type, roles) -> bool:
    """Whether `user` can hold none of `roles` on any row of `model` (holds_any is then false
    without asking the database): none of them is a global role of theirs, a local role or a
    role derived from the rows' fields for them."""
    who, roles = Who.of(user), frozenset(roles)
    return roles.isdisjoint(who.roles) and roles.isdisjoint(LOCAL_ROLES) and not _derived(who, model, roles)


def permitted(user, model: type, permission: str) -> sa.ColumnElement[bool]:
    """SQL: `user` has `permission` on the row in its current state (see policy.has_permission)."""
    return _permitted(Who.of(user), model, permission)


def permitted_in(user, model: type, permission: str, workflow) -> sa.ColumnElement[bool]:
    """SQL: `permission` in the row's state of `workflow` only (how a guard of that workflow
    reads it; see WorkflowEngine.guard_passes and policy.guard_allows)."""
    return _permitted(Who.of(user), model, permission, (workflow.id,))


@lru_cache(maxsize=64)
def _suspensions(model: type) -> tuple[tuple[sa.ColumnElement[bool], object, str | None], ...]:
    """(SQL: the row is held by this suspending state, the state, its workflow id when the
    state is the row's own, else None), in the order policy.suspension looks. Built once per
    model: SQL expressions never change once built, and building these took 2 ms a call."""
    found = []
    for wf, ids in suspending_states(model):
        column = getattr(model, wf.state_attribute)
        found += [(column == state_id, wf.state(state_id), wf.id) for state_id in ids]
    for _name, key, target in suspended_via(model):
        parent = so.aliased(target)  # its own FROM, even in a query that selects `target`
        for wf, ids in suspending_states(target):
            column = getattr(parent, wf.state_attribute)
            found += [
                (
                    _key_in(model, key, sa.select(parent.id).where(column == state_id)),
                    wf.state(state_id),
                    None,
                )
                for state_id in ids
            ]
    return tuple(found)


def _key_in(model: type, key: str, ids: sa.Select) -> sa.ColumnElement[bool]:
    """SQL: the row's `key` is one of `ids`, a sub-query of its own (run once, not once per
    row as a correlated EXISTS is: 6 ms for an overdue count at 10k items). Negated, a NULL key
    must stay true, as NOT EXISTS is."""
    column = getattr(model, key)
    found = column.in_(ids)
    return sa.and_(column.is_not(None), found) if column.expression.nullable else found


def _unsuspended(who: Who, model: type, permission: str, only, base) -> sa.ColumnElement[bool]:
    """`base` where nothing suspends the row; a suspending state's own map where one does (for
    a guard of one workflow (`only`): nothing, unless the state is that workflow's own)."""
    clauses, earlier = [], []
    for held_by, state, own_workflow in _suspensions(model):
        mapped = only is None or own_workflow in only
        granted = _holds_any(who, model, state.roles_with(permission)) if mapped else FALSE
        clauses.append(all_of(*(~e for e in earlier), held_by, granted))
        earlier.append(held_by)
    if not clauses:
        return base
    return _any(*clauses, all_of(*(~e for e in earlier), base))


def active_in(model: type, workflow) -> sa.ColumnElement[bool]:
    """SQL: `workflow` may move the row (policy.workflow_active): nothing else suspends it."""
    parts = [~held_by for held_by, _state, own_workflow in _suspensions(model) if own_workflow != workflow.id]
    return all_of(*parts)


@lru_cache(maxsize=4096)
def _permitted(who: Who, model: type, permission: str, only=None) -> sa.ColumnElement[bool]:
    target, key = permission_target_class(model)
    if key is not None:
        inner = _permitted(who, target, permission, only)
        if inner is FALSE:
            return FALSE
        return sa.exists().where(target.id == getattr(model, key), inner)
    return _unsuspended(who, model, permission, only, _base_permitted(who, model, permission, only))


def _base_permitted(who: Who, model: type, permission: str, only) -> sa.ColumnElement[bool]:
    governing = workflows_of(model) if only is None else tuple(WORKFLOWS[i] for i in only)
    fixed = fixed_permissions(model).get(permission, ()) if only is None else ()
    clauses = [_holds_any(who, model, frozenset(fixed))] if fixed else []
    for wf in governing:
        if permission not in wf.permissions:
            continue
        states_by_roles: dict[frozenset[str], list[str]] = defaultdict(list)
        for state in wf.states:
            states_by_roles[state.roles_with(permission)].append(state.id)
        column = getattr(model, wf.state_attribute)
        for roles, states in states_by_roles.items():
            holds = _holds_any(who, model, roles) if roles else FALSE
            every_state = len(states) == len(wf.states)
            clauses.append(holds if every_state else all_of(column.in_(states), holds))
    return _any(*clauses)


def visible(user, model: type) -> sa.ColumnElement[bool]:
    """SQL: rows of `model` that `user` may view."""
    return permitted(user, model, "view")


def guard_clause(user, model: type, guard, today: date, workflow) -> sa.ColumnElement[bool]:
    """SQL for a worklist guard of `workflow`: any permission (in that workflow's state, as
    transition guards read it), any role, every named condition."""
    parts = [active_in(model, workflow)]
    if guard.permissions:
        parts.append(_any(*(permitted_in(user, model, p, workflow) for p in guard.permissions)))
    if guard.roles:
        parts.append(holds_any(user, model, guard.roles))
    parts += [conditions.clause(name, user, model, today) for name in guard.conditions]
    return all_of(*parts)
