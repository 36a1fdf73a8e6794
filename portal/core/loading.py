"""Loading documents for a request: 404 when missing or invisible, 403 when only not allowed.

Both questions go to the one policy (portal.core.policy) and its SQL form (portal.core.filters).
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask_login import current_user

from portal.core.content import hops, permission_target, workflows_of
from portal.core.errors import NotAllowed, NotFound
from portal.core.extensions import db
from portal.core.filters import visible as visible_clause
from portal.core.policy import can


def load(model: type, object_id: int, permission: str = "view", user=None):
    """The object, if `user` (default: the current user) may see it and has `permission`.

    Raises NotFound when it does not exist or is invisible to the user, NotAllowed when the
    user sees it but lacks `permission`.
    """
    user = current_user if user is None else user
    obj = db.session.get(model, object_id)
    if obj is None or not visible(obj, user):
        raise NotFound()
    if permission != "view" and not can(user, permission, obj):
        raise NotAllowed()
    return obj


@cache
def _children(container: type) -> tuple[tuple[type, str], ...]:
    """(content type with a workflow, foreign key) pairs of objects that acquire from
    `container`."""
    found = []
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if workflows_of(cls):
            found += [(cls, hop.foreign_key) for hop in hops(cls) if hop.target is container]
    return tuple(found)


def visible(obj, user=None) -> bool:
    """May `user` see `obj`? A container is visible through any visible object in it."""
    user = current_user if user is None else user
    target = permission_target(obj)
    if can(user, "view", target):
        return True
    return any(
        db.session.scalar(
            sa.select(sa.exists().where(getattr(child, key) == target.id, visible_clause(user, child)))
        )
        is True
        for child, key in _children(type(target))
    )
