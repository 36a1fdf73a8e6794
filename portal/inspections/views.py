"""Inspection overview, item page, and the create/edit forms of every document."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Department, User, UserRole
from portal.audit.chain import Actor
from portal.errors import OperationError
from portal.evidence.models import Evidence
from portal.extensions import db
from portal.feedback.operations import fix_check_counts
from portal.inspections.forms import (
    CategoryForm,
    EvidenceForm,
    InspectionForm,
    ItemForm,
    MeasureDoneForm,
    MeasureForm,
)
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.inspections.operations import (
    add_measure,
    create_category,
    create_inspection,
    create_item,
    item_progress,
    set_measure_done,
    update_document,
)
from portal.inspections.queries import inspection_overview
from portal.inspections.timeline import item_timeline
from portal.security import roles_required
from portal.timeutil import today
from portal.views_util import flash_errors
from portal.workflow.forms import TransitionForm
from portal.workflow.models import Approval
from portal.workflow.operations import Conflict, transition_title
from portal.workflow.policy import allowed_transitions, can
from portal.workflow.worklists import can_view
from workflows import WORKFLOWS
from workflows.roles import GLOBAL_ROLES

bp = Blueprint("documents", __name__)
INTERNAL = GLOBAL_ROLES


# --- loading and access ---------------------------------------------------------------------

def load(model, object_id: int, permission: str = "view"):
    """Load or 404 — also 404 when the user may not even see it; 403 when only `permission`
    is missing."""
    obj = db.session.get(model, object_id)
    if obj is None or not visible(obj):
        abort(404)
    if permission != "view" and not can(current_user, permission, _permission_target(obj)):
        abort(403)
    return obj


def visible(obj) -> bool:
    """May the current user see `obj`? Containers are visible through any visible item."""
    target = _permission_target(obj)
    if can(current_user, "view", target):
        return True
    if isinstance(target, (Inspection, Category)):
        column = (RectificationItem.inspection_id if isinstance(target, Inspection)
                  else RectificationItem.category_id)
        return db.session.scalar(sa.select(sa.exists().where(
            column == target.id, can_view(current_user)))) is True
    return False


def _permission_target(obj):
    return obj.item if isinstance(obj, Measure) else obj


def _users_with(role: str) -> list[User]:
    return db.session.scalars(sa.select(User).join(UserRole).where(
        UserRole.role == role, User.active.is_(True)).order_by(User.display_name)).all()


def _text(field) -> str:
    return (field.data or "").strip()


def _choose(form_value: int, model):
    return db.session.get(model, form_value) if form_value else None


def _version_conflict():
    flash(_("This item was changed by someone else in the meantime. Reload the page to see its "
            "current state."), "danger")
    abort(409)


# --- inspections ------------------------------------------------------------------------------

@bp.route("/inspections/")
@roles_required(*INTERNAL)
def inspections():
    rows = db.session.scalars(sa.select(Inspection).order_by(Inspection.created_at.desc())).all()
    with_items = set(db.session.scalars(sa.select(RectificationItem.inspection_id).where(
        can_view(current_user)).distinct()))
    visible = [i for i in rows if i.id in with_items or can(current_user, "view", i)]
    return render_template("documents/inspections.html", inspections=visible,
                           can_create=current_user.has_role("office"))


def _inspection_values(form: InspectionForm) -> dict:
    return {
        "title": _text(form.title), "inspected_unit": _text(form.inspected_unit),
        "inspection_team": _text(form.inspection_team), "start_date": form.start_date.data,
        "end_date": form.end_date.data, "feedback_date": form.feedback_date.data,
        "approval_policy": form.approval_policy.data,
        "party_secretary_id": form.party_secretary_id.data or None,
        "contact_phone": _text(form.contact_phone),
        "contact_address": _text(form.contact_address),
        "contact_email": _text(form.contact_email),
    }


@bp.route("/inspections/new", methods=["GET", "POST"])
@roles_required("office")
def new_inspection():
    form = InspectionForm()
    form.set_choices(_users_with("leader"))
    if form.validate_on_submit():
        values = _inspection_values(form)
        values["party_secretary"] = _choose(values.pop("party_secretary_id") or 0, User)
        inspection = create_inspection(Actor.of(current_user), **values)
        db.session.commit()
        flash(_("Inspection created."), "success")
        return redirect(url_for("documents.inspection", inspection_id=inspection.id))
    return render_template("documents/form.html", form=form, title=_("New inspection"))


@bp.route("/inspections/<int:inspection_id>")
@roles_required(*INTERNAL)
def inspection(inspection_id: int):
    obj = load(Inspection, inspection_id)
    overview = inspection_overview(obj, current_user, today())
    return render_template("documents/inspection.html", overview=overview,
                           can_edit=can(current_user, "edit", obj),
                           can_add_item=can(current_user, "add_item", obj),
                           can_share=can(current_user, "share", obj),
                           state_title=state_title)


@bp.route("/inspections/<int:inspection_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_inspection(inspection_id: int):
    obj = load(Inspection, inspection_id, "edit")
    form = InspectionForm(obj=obj)
    form.set_choices(_users_with("leader"))
    if request.method == "GET":
        form.party_secretary_id.data = obj.party_secretary_id or 0
    if form.validate_on_submit():
        update_document(Actor.of(current_user), obj, _inspection_values(form),
                        form.change_note.data or "")
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("documents.inspection", inspection_id=obj.id))
    return render_template("documents/form.html", form=form, title=obj.title, versioned=obj)


# --- categories -------------------------------------------------------------------------------

@bp.route("/inspections/<int:inspection_id>/categories/new", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def new_category(inspection_id: int):
    parent = load(Inspection, inspection_id, "edit")
    form = CategoryForm()
    if form.validate_on_submit():
        create_category(Actor.of(current_user), parent, label=_text(form.label),
                        title=form.title.data, position=form.position.data or 0)
        db.session.commit()
        flash(_("Category added."), "success")
        return redirect(url_for("documents.inspection", inspection_id=parent.id))
    return render_template("documents/form.html", form=form, title=_("New category"),
                           parent=parent)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_category(category_id: int):
    obj = load(Category, category_id, "edit")
    form = CategoryForm(obj=obj)
    if form.validate_on_submit():
        update_document(Actor.of(current_user), obj, {
            "label": _text(form.label), "title": _text(form.title),
            "position": form.position.data or 0}, form.change_note.data or "")
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("documents.inspection", inspection_id=obj.inspection_id))
    return render_template("documents/form.html", form=form, title=obj.title, versioned=obj)


# --- items ------------------------------------------------------------------------------------

def _item_form(inspection: Inspection, obj=None) -> ItemForm:
    form = ItemForm(obj=obj) if obj is not None else ItemForm()
    form.set_choices(inspection.categories, _users_with("leader"),
                     db.session.scalars(sa.select(Department).order_by(Department.name)).all(),
                     _users_with("staff"))
    if obj is not None and request.method == "GET":
        for name in ("category_id", "responsible_leader_id", "department_id", "staff_id"):
            getattr(form, name).data = getattr(obj, name) or 0
        form.version.data = obj.version
    return form


def _item_values(form: ItemForm) -> dict:
    return {
        "category_id": form.category_id.data or None, "number": _text(form.number),
        "title": _text(form.title), "feedback_text": form.feedback_text.data or "",
        "responsible_leader_id": form.responsible_leader_id.data or None,
        "department_id": form.department_id.data or None, "staff_id": form.staff_id.data or None,
        "deadline": form.deadline.data, "completion_summary": form.completion_summary.data or "",
        "money_to_recover": form.money_to_recover.data,
        "money_recovered": form.money_recovered.data,
        "public_summary": form.public_summary.data or "",
        "progress_override": form.progress_override.data,
    }


@bp.route("/inspections/<int:inspection_id>/items/new", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def new_item(inspection_id: int):
    parent = load(Inspection, inspection_id, "add_item")
    form = _item_form(parent)
    if request.method == "GET" and request.args.get("category", type=int):
        form.category_id.data = request.args.get("category", type=int)
    if form.validate_on_submit():
        values = _item_values(form)
        values.pop("money_recovered"), values.pop("progress_override")
        item = create_item(
            Actor.of(current_user), parent, category=_choose(values.pop("category_id") or 0,
                                                             Category),
            responsible_leader=_choose(values.pop("responsible_leader_id") or 0, User),
            staff=_choose(values.pop("staff_id") or 0, User),
            department=_choose(values.pop("department_id") or 0, Department), **values)
        db.session.commit()
        flash(_("Item created."), "success")
        return redirect(url_for("documents.item", item_id=item.id))
    return render_template("documents/form.html", form=form, title=_("New item"), parent=parent)


def state_title(workflow_id: str, state_id: str) -> str:
    from flask_babel import get_locale

    state = WORKFLOWS[workflow_id].state(state_id)
    return state.title_zh if str(get_locale()).startswith("zh") else state.title_en


def render_item(item: RectificationItem, form: TransitionForm | None = None,
                failed: str | None = None, status: int = 200,
                evidence_form: EvidenceForm | None = None, measure_form: MeasureForm | None = None):
    """The item page; re-rendered with the user's input and messages when something is refused."""
    approvals = db.session.scalars(sa.select(Approval).options(so.joinedload(Approval.user))
                                   .where(Approval.item_id == item.id).order_by(Approval.id)).all()
    evidence = db.session.scalars(sa.select(Evidence).options(so.joinedload(Evidence.added_by))
                                  .where(Evidence.item_id == item.id).order_by(Evidence.id)).all()
    return render_template(
        "documents/item.html", item=item, progress=item_progress(item),
        measures=item.measures, evidence=evidence, approvals=approvals,
        timeline=item_timeline(item), transitions=allowed_transitions(current_user, item),
        form=form or TransitionForm(formdata=None, version=item.version), failed=failed,
        can_edit=can(current_user, "edit", item), can_work=can(current_user, "work", item),
        can_share=can(current_user, "share", item), fix_counts=fix_check_counts(item.id),
        evidence_form=evidence_form or EvidenceForm(formdata=None),
        done_form=MeasureDoneForm(formdata=None),
        measure_form=measure_form or MeasureForm(formdata=None), transition_title=transition_title,
        state_title=state_title,
        action_title=lambda wf, action: transition_title(WORKFLOWS[wf].transition(action)),
    ), status


@bp.route("/items/<int:item_id>")
@roles_required(*INTERNAL)
def item(item_id: int):
    return render_item(load(RectificationItem, item_id))


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_item(item_id: int):
    obj = load(RectificationItem, item_id, "edit")
    form = _item_form(obj.inspection, obj)
    if form.validate_on_submit():
        try:
            update_document(Actor.of(current_user), obj, _item_values(form),
                            form.change_note.data or "", form.expected_version())
            db.session.commit()
        except Conflict:
            db.session.rollback()
            _version_conflict()
        flash(_("Saved."), "success")
        return redirect(url_for("documents.item", item_id=obj.id))
    return render_template("documents/form.html", form=form, title=obj.title, versioned=obj)


# --- measures ---------------------------------------------------------------------------------

@bp.route("/items/<int:item_id>/measures", methods=["POST"])
@roles_required(*INTERNAL)
def new_measure(item_id: int):
    parent = load(RectificationItem, item_id, "edit")
    form = MeasureForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return render_item(parent, measure_form=form, status=400)
    add_measure(Actor.of(current_user), parent, label=form.label.data or "", text=form.text.data,
                deadline=form.deadline.data)
    db.session.commit()
    flash(_("Measure added."), "success")
    return redirect(url_for("documents.item", item_id=parent.id) + "#measures")


@bp.route("/measures/<int:measure_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_measure(measure_id: int):
    obj = load(Measure, measure_id, "edit")
    form = MeasureForm(obj=obj)
    if form.validate_on_submit():
        update_document(Actor.of(current_user), obj, {
            "label": _text(form.label), "text": _text(form.text),
            "deadline": form.deadline.data}, form.change_note.data or "")
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("documents.item", item_id=obj.item_id) + "#measures")
    return render_template("documents/form.html", form=form, title=obj.label or obj.text[:20],
                           versioned=obj)


@bp.route("/measures/<int:measure_id>/done", methods=["POST"])
@roles_required(*INTERNAL)
def measure_done(measure_id: int):
    obj = load(Measure, measure_id, "work")
    form = MeasureDoneForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        set_measure_done(Actor.of(current_user), obj, bool(form.done.data))
        db.session.commit()
    except (Conflict, OperationError):
        db.session.rollback()
        _version_conflict()
    return redirect(url_for("documents.item", item_id=obj.item_id) + "#measures")
