"""Sharing (Plone's Sharing tab): local role grants and blocking their inheritance.

Rules: the office may grant any local role; anyone else who may manage sharing grants only the
local roles they hold on the object themselves, and removes only the grants they made
themselves; only who holds `share_any` (the office) removes other people's grants or blocks the
grants inherited from above; and nobody may remove (by revoking a grant or by blocking
inheritance) their own last way to manage the object. Who may share in which state is the
workflow's map (an item's staff no longer does once it is submitted). Every change is audited
with the object's grants before and after.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.chain import Actor, inspection_id_of, record_event, utcnow
from portal.core.errors import NotAllowed, OperationError
from portal.core.extensions import db
from portal.core.models import LocalRole
from portal.core.policy import can, roles_on
from portal.inspections.models import Category, Inspection, RectificationItem
from workflows.roles import LOCAL_ROLES

#: What grants can be made on, by object type (the models' `__sharing_type__`).
MODELS = {cls.__sharing_type__: cls for cls in (Inspection, Category, RectificationItem)}


def object_type(obj) -> str:
    return type(obj).__sharing_type__


def grants_on(obj) -> list[LocalRole]:
    return db.session.scalars(
        sa.select(LocalRole)
        .where(LocalRole.object_type == object_type(obj), LocalRole.object_id == obj.id)
        .order_by(LocalRole.id)
    ).all()


def _describe(grants: list[LocalRole]) -> list[dict]:
    return [{"role": g.role, "user_id": g.user_id, "department_id": g.department_id} for g in grants]


def grantable_roles(user, obj) -> list[str]:
    """The local roles `user` may hand out on `obj`."""
    if not can(user, "share", obj):
        return []
    if user.has_role("office"):
        return list(LOCAL_ROLES)
    held = roles_on(user, obj)
    return [r for r in LOCAL_ROLES if r in held]


def grant_local_role(actor: Actor, obj, role: str, *, user=None, department=None) -> LocalRole:
    """Record a grant (no rule checks: for setup code; the web uses `share`)."""
    before = _describe(grants_on(obj))
    grant = LocalRole(
        object_type=object_type(obj),
        object_id=obj.id,
        role=role,
        user_id=user.id if user else None,
        department_id=department.id if department else None,
        granted_by_id=actor.id,
        granted_at=utcnow(),
    )
    db.session.add(grant)
    db.session.flush()
    record_event(
        actor,
        "sharing.grant",
        grant.object_type,
        obj.id,
        {
            "role": role,
            "user_id": grant.user_id,
            "department_id": grant.department_id,
            "before": before,
            "after": _describe(grants_on(obj)),
        },
        inspection_id=inspection_id_of(obj),
    )
    return grant


def share(actor: Actor, obj, role: str, *, user=None, department=None) -> LocalRole:
    """Grant `role` on `obj` as `actor`, who may only hand out roles they hold."""
    if role not in grantable_roles(actor.user, obj):
        raise OperationError(_("You can only grant roles you hold yourself here."))
    principal = (LocalRole.user_id == user.id) if user else (LocalRole.department_id == department.id)
    if (
        db.session.scalar(
            sa.select(LocalRole.id).where(
                LocalRole.object_type == object_type(obj),
                LocalRole.object_id == obj.id,
                LocalRole.role == role,
                principal,
            )
        )
        is not None
    ):
        raise OperationError(_("This grant already exists."))
    return grant_local_role(actor, obj, role, user=user, department=department)


def _keeps_management(actor: Actor, obj) -> bool:
    """Does the acting user still manage sharing of `obj`? (System actors always do.)"""
    if actor.user is None:
        return True
    db.session.flush()
    db.session.expire(obj)
    return can(actor.user, "share", obj)


def may_revoke(user, obj, grant: LocalRole) -> bool:
    """May `user` remove `grant` (made on `obj`)? Their own grants where they share; anyone's
    with `share_any`."""
    if user is None:
        return True
    if can(user, "share_any", obj):
        return True
    return can(user, "share", obj) and grant.granted_by_id == user.id


def may_block(user, obj) -> bool:
    """May `user` block (or restore) the grants `obj` inherits?"""
    return user is None or can(user, "share_any", obj)


def revoke(actor: Actor, obj, grant: LocalRole) -> None:
    """Remove a grant made on `obj`; refused when it is someone else's grant and `actor` lacks
    `share_any`, or when it is `actor`'s last way to manage it."""
    if not may_revoke(actor.user, obj, grant):
        raise NotAllowed(
            _("You can remove only the grants you made yourself; the office removes the others.")
        )
    before = _describe(grants_on(obj))
    db.session.delete(grant)
    if not _keeps_management(actor, obj):
        raise OperationError(_("You cannot remove your own last way to manage sharing here."))
    record_event(
        actor,
        "sharing.revoke",
        object_type(obj),
        obj.id,
        {
            "role": grant.role,
            "user_id": grant.user_id,
            "department_id": grant.department_id,
            "before": before,
            "after": _describe(grants_on(obj)),
        },
        inspection_id=inspection_id_of(obj),
    )


def set_inheritance_blocked(actor: Actor, obj, blocked: bool) -> None:
    """Block or restore the grants inherited from above (the office only)."""
    if not may_block(actor.user, obj):
        raise NotAllowed(_("Only the office can block or restore the roles granted above."))
    before = obj.local_roles_blocked
    if before == blocked:
        return
    obj.local_roles_blocked = blocked
    if not _keeps_management(actor, obj):
        raise OperationError(_("You cannot remove your own last way to manage sharing here."))
    record_event(
        actor,
        "sharing.block_inheritance",
        object_type(obj),
        obj.id,
        {"before": before, "after": blocked},
        inspection_id=inspection_id_of(obj),
    )
