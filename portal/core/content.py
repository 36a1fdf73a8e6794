"""What a content type declares so that the one policy can judge it (Plone's content types).

A model class declares, as class attributes:

- `__sharing_type__`: the object type that local role grants name (None: no grants).
- `__acquisition__`: many-to-one relationships whose grants reach this object, nearest first
  (an item: its category, then its inspection). Grants are inherited downward unless the object
  or an ancestor on the way blocks inheritance (`local_roles_blocked`).
- `__derived_roles__`: roles that follow from the object's own fields (`DerivedRole`).
- `__workflows__`: the workflows governing it, in the order their transitions are offered; a
  permission is held when any of them grants it in the object's current state.
- `__permissions__`: fixed permission -> roles, for types without a workflow (containers).
- `__permission_target__`: a relationship whose object's permissions this one uses (a measure
  is judged as its item).
- `__suspended_via__`: many-to-one relationships whose suspending state (a withdrawn
  inspection, say) suspends this object too (see `State.suspends`).
- `__field_permissions__`: field -> the permission that changes it, for fields that need more
  than "edit" (Plone's write permission per schema field): who assigns people and deadlines,
  say. The workflow's state maps say who holds each permission in each state.

The Python policy (portal.core.policy) and the SQL filters (portal.core.filters) both read these
declarations and the workflow definitions; neither knows a content type by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa

from workflows import Workflow


@dataclass(frozen=True)
class DerivedRole:
    """`roles` are held by the user whose id is in `column` (of the row reached `via` a
    many-to-one relationship, or of the object itself), while every `when` pair matches."""

    roles: tuple[str, ...]
    column: str
    via: str | None = None
    when: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Hop:
    """One step up the acquisition chain: the relationship, its foreign key, its target."""

    relationship: str
    foreign_key: str
    target: type


def sharing_type(cls: type) -> str | None:
    return getattr(cls, "__sharing_type__", None)


def workflows_of(cls: type) -> tuple[Workflow, ...]:
    return tuple(getattr(cls, "__workflows__", ()))


def fixed_permissions(cls: type) -> Mapping[str, frozenset[str]]:
    return getattr(cls, "__permissions__", {})


def derived_roles_of(cls: type) -> tuple[DerivedRole, ...]:
    return tuple(getattr(cls, "__derived_roles__", ()))


def can_block(cls: type) -> bool:
    return hasattr(cls, "local_roles_blocked")


def _many_to_one(cls: type, name: str) -> tuple[str, type]:
    relationship = sa.inspect(cls).relationships[name]
    (column,) = relationship.local_columns
    return column.key, relationship.mapper.class_


@cache
def hops(cls: type) -> tuple[Hop, ...]:
    """The acquisition chain of `cls`, resolved to foreign keys and target classes."""
    return tuple(Hop(name, *_many_to_one(cls, name)) for name in getattr(cls, "__acquisition__", ()))


@cache
def via(cls: type, relationship: str) -> tuple[str, type]:
    """(foreign key attribute, target class) of a many-to-one relationship of `cls`."""
    return _many_to_one(cls, relationship)


def suspended_via(cls: type) -> tuple[tuple[str, str, type], ...]:
    """(relationship, foreign key, target class) whose suspension reaches `cls`."""
    return tuple((name, *via(cls, name)) for name in getattr(cls, "__suspended_via__", ()))


def suspending_states(cls: type) -> tuple[tuple[Workflow, tuple[str, ...]], ...]:
    """(workflow, ids of its suspending states) for each workflow of `cls` that has some."""
    found = []
    for wf in workflows_of(cls):
        ids = tuple(s.id for s in wf.states if s.suspends)
        if ids:
            found.append((wf, ids))
    return tuple(found)


def permission_target(obj):
    """The object whose permissions apply to `obj` (itself, or e.g. a measure's item)."""
    name = getattr(type(obj), "__permission_target__", None)
    return getattr(obj, name) if name else obj


def permission_target_class(cls: type) -> tuple[type, str | None]:
    """(class whose permissions apply, foreign key on `cls` that leads there, or None)."""
    name = getattr(cls, "__permission_target__", None)
    if not name:
        return cls, None
    key, target = via(cls, name)
    return target, key


def field_permission(cls: type, field: str) -> str:
    """The permission that changes `field` of a `cls` document ("edit" unless declared)."""
    return getattr(cls, "__field_permissions__", {}).get(field, "edit")
