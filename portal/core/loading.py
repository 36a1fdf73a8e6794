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
from portal.core.filters import permitted
from portal.core.policy import ANONYMOUS, can


def load(model: type, object_id: int, permission: str = "view", user=None, *, see: str = "view"):
    """The object, if `user` (default: the current user) may see it and has `permission`.

    `see` is what seeing means: "view" for the internal pages, "view_public" for the public
    ones (what publishing grants). Raises NotFound when the object does not exist or is
    invisible to the user, NotAllowed when the user sees it but lacks `permission`.
    """
    user = current_user if user is None else user
    obj = db.session.get(model, object_id)
    if obj is None or not visible(obj, user, see):
        raise NotFound()
    if permission not in ("view", see) and not can(user, permission, obj):
        raise NotAllowed()
    return obj


def load_public(model: type, object_id: int):
    """The object as the public sees it (published, nothing suspending it), or NotFound."""
    return load(model, object_id, "view_public", user=ANONYMOUS, see="view_public")


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


def visible(obj, user=None, see: str = "view") -> bool:
    """May `user` see (`see`: "view" or "view_public") `obj`? A container is visible through any
    object in it that is visible so."""
    user = current_user if user is None else user
    target = permission_target(obj)
    if can(user, see, target):
        return True
    return any(
        db.session.scalar(
            sa.select(sa.exists().where(getattr(child, key) == target.id, permitted(user, child, see)))
        )
        is True
        for child, key in _children(type(target))
    )
