"""The one policy: may this user do this on this object? (Plone's permission check.)

Roles on an object = the account's global roles + local roles granted on the object and its
ancestors (inherited downward unless an object blocks inheritance) + roles that follow from the
object's own fields (see workflows.roles) + Anonymous/Authenticated. A permission is held when
any of those roles holds it in the object's current workflow state. Views, templates, worklists
and operations all ask here.
"""

from __future__ import annotations

from functools import cached_property

import sqlalchemy as sa

from portal.evidence.models import Evidence
from portal.extensions import db
from portal.inspections.models import APPROVAL_DUAL, Category, Inspection, RectificationItem
from portal.sharing.models import LocalRole
from portal.workflow.models import Approval
from workflows import ENGINES, PUBLICATION, RECTIFICATION, Transition, WorkflowEngine
from workflows.definition import roles as role_set

#: Workflows governing an item, in the order their transitions are offered.
ITEM_WORKFLOWS = (RECTIFICATION, PUBLICATION)

#: Inspections and categories have no workflow; their permissions are fixed.
CONTAINER_PERMISSIONS = {
    "view": role_set("office", "leader", "auditor", "Reader", "Editor", "Reviewer"),
    "edit": role_set("office"),
    "add_item": role_set("office"),
    "share": role_set("office", "Editor"),
}


def _is_signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def principal_clause(user):
    """Grants that reach `user`: made to the account or to its department."""
    clause = LocalRole.user_id == user.id
    if user.department_id is not None:
        clause = sa.or_(clause, LocalRole.department_id == user.department_id)
    return clause


def _scope(obj) -> list[tuple[str, int]]:
    """The objects whose grants reach `obj`: itself and unblocked ancestors."""
    if isinstance(obj, Inspection):
        return [("inspection", obj.id)]
    if isinstance(obj, Category):
        scope = [("category", obj.id)]
        return scope if obj.local_roles_blocked else scope + [("inspection", obj.inspection_id)]
    scope = [("item", obj.id)]
    if obj.local_roles_blocked:
        return scope
    if obj.category_id is None:
        return scope + [("inspection", obj.inspection_id)]
    return scope + _scope(obj.category)


def granted_roles(user, obj) -> set[str]:
    pairs = _scope(obj)
    where = sa.or_(*(sa.and_(LocalRole.object_type == t, LocalRole.object_id == i)
                     for t, i in pairs))
    return set(db.session.scalars(sa.select(LocalRole.role).where(principal_clause(user), where)))


def derived_roles(user, obj) -> set[str]:
    """Roles that follow from the object's own fields."""
    held: set[str] = set()
    inspection = obj if isinstance(obj, Inspection) else obj.inspection
    if inspection.approval_policy == APPROVAL_DUAL and inspection.party_secretary_id == user.id:
        held |= {"Reviewer", "PartySecretary"}
    if isinstance(obj, RectificationItem):
        if obj.staff_id == user.id:
            held.add("Editor")
        if obj.responsible_leader_id == user.id:
            held |= {"Reviewer", "ResponsibleLeader"}
    return held


def roles_on(user, obj) -> frozenset[str]:
    """Every role `user` holds on `obj`."""
    if not _is_signed_in(user):
        return frozenset({"Anonymous"})
    return frozenset({"Anonymous", "Authenticated"} | user.roles | granted_roles(user, obj)
                     | derived_roles(user, obj))


def has_permission(user, permission: str, obj, held: frozenset[str] | None = None) -> bool:
    """May `user` exercise `permission` on `obj` in its current state?"""
    held = roles_on(user, obj) if held is None else held
    if isinstance(obj, RectificationItem):
        return any(ENGINES[wf.id].has_permission(permission, getattr(obj, wf.state_attribute),
                                                 held)
                   for wf in ITEM_WORKFLOWS if permission in wf.permissions)
    return not held.isdisjoint(CONTAINER_PERMISSIONS.get(permission, ()))


can = has_permission


# --- guards on items ----------------------------------------------------------------------

def open_approver_ids(item: RectificationItem) -> set[int]:
    return set(db.session.scalars(sa.select(Approval.user_id).where(
        Approval.item_id == item.id, Approval.cleared_at.is_(None))))


def required_approver_ids(item: RectificationItem) -> set[int | None]:
    required = {item.responsible_leader_id}
    if item.inspection.approval_policy == APPROVAL_DUAL:
        required.add(item.inspection.party_secretary_id)
    return required


def active_evidence_ids(item: RectificationItem) -> list[int]:
    return list(db.session.scalars(sa.select(Evidence.id).where(
        Evidence.item_id == item.id, Evidence.withdrawn_at.is_(None)).order_by(Evidence.id)))


class ItemContext:
    """What the workflow engine asks about one user acting on one item."""

    def __init__(self, user, item: RectificationItem):
        self.user, self.item = user, item

    @cached_property
    def _roles(self) -> frozenset[str]:
        return roles_on(self.user, self.item)

    def roles(self) -> frozenset[str]:
        return self._roles

    def condition(self, name: str) -> bool:
        if name == "not_approved_by_actor":
            return self.user.id not in open_approver_ids(self.item)
        if name == "approval_policy_met":
            required = required_approver_ids(self.item)
            return None not in required and required <= open_approver_ids(self.item)
        raise KeyError(f"unknown workflow condition {name!r}")


def workflow_of(item_transition_id: str):
    """The item workflow that defines `item_transition_id`, or None."""
    return next((wf for wf in ITEM_WORKFLOWS if wf.has_transition(item_transition_id)), None)


def engine_for(transition_id: str) -> WorkflowEngine | None:
    wf = workflow_of(transition_id)
    return ENGINES[wf.id] if wf else None


def allowed_transitions(user, item: RectificationItem) -> list[Transition]:
    """The transitions `user` may fire on `item` now (every item workflow, manual ones only)."""
    if not _is_signed_in(user):
        return []
    ctx = ItemContext(user, item)
    return [t for wf in ITEM_WORKFLOWS for t in ENGINES[wf.id].available(item, ctx)]
