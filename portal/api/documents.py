"""The API's other resources: categories, measures, evidence (its metadata and its file),
feedback, departments, users (for admins) and the audit log (for auditors).

Each answers as its page does: an object through `load` (404 unseen, 403 not allowed), a list
through the permission filter in SQL, a role-limited list by the same roles as its page.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Department, User
from portal.api import auth
from portal.api import schemas as s
from portal.api.common import batched, bp, department, link, links, named, person, require_role, url
from portal.audit.models import AuditEvent
from portal.auditing import log
from portal.core.downloads import stored_file
from portal.core.errors import Conflict, NotFound
from portal.core.extensions import db
from portal.core.filters import visible
from portal.core.loading import load
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore
from portal.feedback.forms import KIND_LABELS
from portal.feedback.models import Feedback
from portal.inspections.models import Category, Inspection, Measure, RectificationItem

TOKEN = [{"token": []}]


def _item_link(item: RectificationItem) -> dict:
    return link("api.item", item, item.title, item_id=item.id)


# --- categories ----------------------------------------------------------------------------


def _category_summary(obj: Category) -> dict:
    return {
        "_id": url("api.category", category_id=obj.id),
        "_type": "Category",
        "id": obj.id,
        "label": obj.label or "",
        "title": obj.title,
        "items": url("api.items", category=obj.id),
    }


@bp.route("/inspections/<int:inspection_id>/categories")
@auth.signed_in
@bp.arguments(s.BatchArgs, location="query")
@bp.response(200, s.CategoryListing)
@bp.doc(
    **links(Category=("get", "/api/categories/{category_id}", {"category_id": "$response.body#/items/0/id"}))
)
@bp.doc(summary="An inspection's categories (反馈问题类别), in their order", security=TOKEN)
def inspection_categories(args, inspection_id: int):
    parent = load(Inspection, inspection_id)
    select = sa.select(Category).where(Category.inspection_id == parent.id)
    select = select.order_by(Category.position, Category.id)
    return batched("api.inspection_categories", select, args, _category_summary, inspection_id=inspection_id)


@bp.route("/categories/<int:category_id>")
@auth.signed_in
@bp.response(200, s.Category)
@bp.doc(summary="One category", security=TOKEN)
def category(category_id: int):
    obj = load(Category, category_id)
    parent = obj.inspection
    return {
        **_category_summary(obj),
        "inspection": link("api.inspection", parent, parent.title, inspection_id=parent.id),
    }


# --- measures ------------------------------------------------------------------------------


def measure_summary(obj: Measure) -> dict:
    return {
        "_id": url("api.measure", measure_id=obj.id),
        "_type": "Measure",
        "id": obj.id,
        "label": obj.label or "",
        "text": obj.text,
        "status": obj.status,
        "deadline": obj.deadline,
    }


@bp.route("/items/<int:item_id>/measures")
@auth.signed_in
@bp.arguments(s.BatchArgs, location="query")
@bp.response(200, s.MeasureListing)
@bp.doc(**links(Measure=("get", "/api/measures/{measure_id}", {"measure_id": "$response.body#/items/0/id"})))
@bp.doc(summary="An item's measures (整改措施), in their order", security=TOKEN)
def item_measures(args, item_id: int):
    parent = load(RectificationItem, item_id)
    select = sa.select(Measure).where(Measure.item_id == parent.id).order_by(Measure.position, Measure.id)
    return batched("api.item_measures", select, args, measure_summary, item_id=item_id)


@bp.route("/measures/<int:measure_id>")
@auth.signed_in
@bp.response(200, s.Measure)
@bp.doc(summary="One measure", security=TOKEN)
def measure(measure_id: int):
    obj = load(Measure, measure_id)
    return {**measure_summary(obj), "status_reason": obj.status_reason or "", "item": _item_link(obj.item)}


# --- evidence ------------------------------------------------------------------------------


def _evidence(obj: Evidence, item: RectificationItem) -> dict:
    return {
        "_id": url("api.evidence", evidence_id=obj.id),
        "_type": "Evidence",
        "id": obj.id,
        "kind": "file" if obj.is_file else "note",
        "note": obj.note or "",
        "filename": obj.filename,
        "size": obj.size,
        "content_type": obj.content_type,
        "sha256": obj.sha256,
        "public": obj.public,
        "added_by": person(obj.added_by),
        "added_at": obj.added_at,
        "withdrawn_at": obj.withdrawn_at,
        "withdrawn_by": person(obj.withdrawn_by),
        "item": _item_link(item),
        "download": url("api.evidence_download", evidence_id=obj.id) if obj.is_file else None,
    }


class StoredFileDamaged(Conflict):
    """The stored file is not what was uploaded (HTTP 409): the office restores it from backup."""

    explained = True

    def __init__(self):
        super().__init__(_("The stored file does not match its checksum; please tell the inspection office."))


def _load_evidence(evidence_id: int) -> tuple[Evidence, RectificationItem]:
    """The evidence and its item, if the caller may see the item (as the download page loads it)."""
    obj = db.session.get(Evidence, evidence_id)
    if obj is None:
        raise NotFound()
    return obj, load(RectificationItem, obj.item_id)


@bp.route("/items/<int:item_id>/evidence")
@auth.signed_in
@bp.arguments(s.BatchArgs, location="query")
@bp.response(200, s.EvidenceListing)
@bp.doc(
    **links(
        Evidence=("get", "/api/evidence/{evidence_id}", {"evidence_id": "$response.body#/items/0/id"}),
        Download=(
            "get",
            "/api/evidence/{evidence_id}/@download",
            {"evidence_id": "$response.body#/items/0/id"},
        ),
    )
)
@bp.doc(summary="An item's evidence (佐证材料), withdrawn pieces included and marked", security=TOKEN)
def item_evidence(args, item_id: int):
    parent = load(RectificationItem, item_id)
    select = (
        sa.select(Evidence)
        .where(Evidence.item_id == parent.id)
        .options(so.selectinload(Evidence.added_by), so.selectinload(Evidence.withdrawn_by))
        .order_by(Evidence.id)
    )
    return batched("api.item_evidence", select, args, lambda e: _evidence(e, parent), item_id=item_id)


@bp.route("/evidence/<int:evidence_id>")
@auth.signed_in
@bp.response(200, s.Evidence)
@bp.doc(summary="One piece of evidence: its metadata", security=TOKEN)
def evidence(evidence_id: int):
    return _evidence(*_load_evidence(evidence_id))


@bp.route("/evidence/<int:evidence_id>/@download")
@auth.signed_in
@bp.response(200, description="the file as uploaded, under its original name")
@bp.alt_response(409, schema=s.ApiError, description="the stored file fails its SHA-256 check")
@bp.doc(summary="A file's content (after its SHA-256 check)", security=TOKEN)
def evidence_download(evidence_id: int):
    obj, _item = _load_evidence(evidence_id)
    if not obj.is_file:
        raise NotFound()
    store = FileStore(current_app.config["EVIDENCE_DIR"])
    if store.sha256(obj.storage_key) != obj.sha256:
        current_app.logger.error("evidence %s failed its SHA-256 check", obj.id)
        raise StoredFileDamaged()
    return stored_file(store.open(obj.storage_key), obj.content_type, obj.filename, private=True)


# --- feedback ------------------------------------------------------------------------------


def _feedback(obj: Feedback, contact: bool) -> dict:
    found = {
        "_id": url("api.feedback_one", feedback_id=obj.id),
        "_type": "Feedback",
        "id": obj.id,
        "kind": {"id": obj.kind, "title": str(KIND_LABELS[obj.kind])},
        "text": obj.text,
        "state": named("moderation", obj.moderation_state),
        "reply": obj.reply or "",
        "replied_at": obj.replied_at,
        "created_at": obj.created_at,
        "inspection": link(
            "api.inspection", obj.inspection, obj.inspection.title, inspection_id=obj.inspection_id
        ),
        "item": None if obj.item is None else _item_link(obj.item),
        "forwarded_department": department(obj.forwarded_department),
        "forwarded_at": obj.forwarded_at,
        "forward_handled_at": obj.forward_handled_at,
    }
    if contact:
        found["contact"] = {"name": obj.name, "phone": obj.phone, "email": obj.email}
    return found


def _sees_contact() -> bool:
    """Contact details are private: the office and auditors only, as on the moderation queue."""
    return current_user.has_role("office", "auditor")


@bp.route("/feedback")
@auth.signed_in
@bp.arguments(s.FeedbackArgs, location="query")
@bp.response(200, s.FeedbackListing)
@bp.doc(
    **links(Feedback=("get", "/api/feedback/{feedback_id}", {"feedback_id": "$response.body#/items/0/id"}))
)
@bp.doc(summary="The public's feedback (意见建议) I may read, newest first", security=TOKEN)
def feedback(args):
    select = sa.select(Feedback).where(visible(current_user, Feedback))
    for name, column in (
        ("state", Feedback.moderation_state),
        ("kind", Feedback.kind),
        ("inspection", Feedback.inspection_id),
        ("item", Feedback.item_id),
    ):
        if args.get(name) is not None:
            select = select.where(column == args[name])
    select = select.options(
        so.selectinload(Feedback.inspection),
        so.selectinload(Feedback.item),
        so.selectinload(Feedback.forwarded_department),
    ).order_by(Feedback.id.desc())
    contact = _sees_contact()
    return batched("api.feedback", select, args, lambda f: _feedback(f, contact))


@bp.route("/feedback/<int:feedback_id>")
@auth.signed_in
@bp.response(200, s.Feedback)
@bp.doc(summary="One piece of feedback", security=TOKEN)
def feedback_one(feedback_id: int):
    return _feedback(load(Feedback, feedback_id), _sees_contact())


# --- departments and users -----------------------------------------------------------------


def _department(obj: Department) -> dict:
    return {
        "_id": url("api.department_one", department_id=obj.id),
        "_type": "Department",
        "id": obj.id,
        "title": obj.name,
    }


@bp.route("/departments")
@auth.signed_in
@bp.arguments(s.BatchArgs, location="query")
@bp.response(200, s.DepartmentListing)
@bp.doc(
    **links(
        Department=(
            "get",
            "/api/departments/{department_id}",
            {"department_id": "$response.body#/items/0/id"},
        )
    )
)
@bp.doc(summary="The responsible departments (责任部门), as the edit form offers them", security=TOKEN)
def departments(args):
    select = sa.select(Department).order_by(Department.name, Department.id)
    return batched("api.departments", select, args, _department)


@bp.route("/departments/<int:department_id>")
@auth.signed_in
@bp.response(200, s.Department)
@bp.doc(summary="One department", security=TOKEN)
def department_one(department_id: int):
    obj = db.session.get(Department, department_id)
    if obj is None:
        raise NotFound()
    return _department(obj)


def _user(obj: User) -> dict:
    return {
        "_id": url("api.user", user_id=obj.id),
        "_type": "User",
        "id": obj.id,
        "login": obj.login,
        "display_name": obj.display_name,
        "email": obj.email,
        "department": department(obj.department),
        "roles": sorted(obj.roles),
        "active": obj.active,
        "created_at": obj.created_at,
    }


@bp.route("/users")
@auth.signed_in
@bp.arguments(s.UserArgs, location="query")
@bp.response(200, s.UserListing)
@bp.doc(**links(User=("get", "/api/users/{user_id}", {"user_id": "$response.body#/items/0/id"})))
@bp.doc(summary="The accounts (administrators only, as the accounts page)", security=TOKEN)
def users(args):
    require_role("admin")
    select = sa.select(User).options(so.selectinload(User.department)).order_by(User.login)
    if args.get("active") is not None:
        select = select.where(User.active.is_(args["active"]))
    return batched("api.users", select, args, _user)


@bp.route("/users/<int:user_id>")
@auth.signed_in
@bp.response(200, s.User)
@bp.doc(summary="One account: administrators, or the account's own holder", security=TOKEN)
def user(user_id: int):
    if user_id != current_user.id:
        require_role("admin")
    obj = db.session.get(User, user_id)
    if obj is None:
        raise NotFound()
    return _user(obj)


# --- the audit log -------------------------------------------------------------------------


def _event(obj: AuditEvent) -> dict:
    return {
        "seq": obj.seq,
        "at": obj.at,
        "actor": obj.actor,
        "actor_id": obj.actor_id,
        "action": obj.action,
        "object_type": obj.object_type,
        "object_id": obj.object_id,
        "inspection_id": obj.inspection_id,
        "payload": json.loads(obj.payload),
        "prev_hash": obj.prev_hash,
        "hash": obj.hash,
    }


@bp.route("/@audit-log")
@auth.signed_in
@bp.arguments(s.AuditArgs, location="query")
@bp.response(200, s.AuditLog)
@bp.doc(
    summary="The audit log (auditors only), newest first, by keyset (`before`)",
    description="The same filters and pages as the auditor's log page; the export there is the "
    "form to verify the chain with.",
    security=TOKEN,
)
def audit_log(args):
    require_role("auditor")
    size = args.pop("b_size")
    before = args.pop("before", None)
    page = log.page(log.LogFilter(**args), before=before, size=size)
    here = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in args.items()}
    first = url("api.audit_log", **here, b_size=size)
    found = {
        "_id": url("api.audit_log", **here, b_size=size, **({"before": before} if before else {})),
        "items": [_event(e) for e in page.events],
    }
    if page.older is not None or before is not None:
        found["batching"] = {"_id": found["_id"], "first": first}
        if page.older is not None:
            found["batching"]["next"] = url("api.audit_log", **here, b_size=size, before=page.older)
    return found
