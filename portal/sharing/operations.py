"""Granting local roles and blocking their inheritance (the Sharing tab arrives later)."""

from __future__ import annotations

from portal.audit.chain import Actor, record_event, utcnow
from portal.extensions import db
from portal.inspections.models import Category, Inspection, RectificationItem
from portal.sharing.models import LocalRole

_TYPES = {Inspection: "inspection", Category: "category", RectificationItem: "item"}


def object_type(obj) -> str:
    return _TYPES[type(obj)]


def grant_local_role(actor: Actor, obj, role: str, *, user=None, department=None) -> LocalRole:
    """Grant `role` on `obj` to one user or to a department."""
    grant = LocalRole(object_type=object_type(obj), object_id=obj.id, role=role,
                      user_id=user.id if user else None,
                      department_id=department.id if department else None,
                      granted_by_id=actor.id, granted_at=utcnow())
    db.session.add(grant)
    db.session.flush()
    record_event(actor, "sharing.grant", grant.object_type, obj.id, {
        "role": role, "user_id": grant.user_id, "department_id": grant.department_id})
    return grant


def set_inheritance_blocked(actor: Actor, obj, blocked: bool) -> None:
    before = obj.local_roles_blocked
    obj.local_roles_blocked = blocked
    db.session.flush()
    record_event(actor, "sharing.block_inheritance", object_type(obj), obj.id,
                 {"before": before, "after": blocked})
