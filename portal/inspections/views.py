"""Inspection overview, item page, and the create/edit forms of every document."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Department, User, active_users_with
from portal.audit.chain import Actor
from portal.core.content import field_permission
from portal.core.extensions import db
from portal.core.filters import visible as visible_clause
from portal.core.handlers import keep_input
from portal.core.loading import load
from portal.core.models import WorkflowHistory
from portal.core.pages import flash_errors
from portal.core.policy import allowed_transitions, can, suspension
from portal.core.security import INTERNAL, roles_required
from portal.core.timeutil import today
from portal.core.titles import state_title, transition_title
from portal.core.transitions import fire
from portal.inspections.forms import (
    MEASURE_STATUS_TITLES,
    CategoryForm,
    InspectionForm,
    ItemForm,
    MeasureDoneForm,
    MeasureForm,
    MeasureStatusForm,
)
from portal.inspections.item_page import render_item
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.inspections.operations import (
    add_measure,
    create_category,
    create_inspection,
    create_item,
    set_measure_done,
    set_measure_status,
    update_document,
)
from portal.inspections.queries import inspection_overview
from portal.workflow.forms import TransitionForm

bp = Blueprint("inspections", __name__)


def _text(field) -> str:
    return (field.data or "").strip()


def _choose(form_value: int, model):
    return db.session.get(model, form_value) if form_value else None


# --- inspections ------------------------------------------------------------------------------


@bp.route("/inspections/")
@roles_required(*INTERNAL)
def inspections():
    rows = db.session.scalars(sa.select(Inspection).order_by(Inspection.created_at.desc())).all()
    with_items = set(
        db.session.scalars(
            sa.select(RectificationItem.inspection_id)
            .where(visible_clause(current_user, RectificationItem))
            .distinct()
        )
    )
    visible = [i for i in rows if i.id in with_items or can(current_user, "view", i)]
    return render_template(
        "inspections/inspections.html",
        inspections=[i for i in visible if suspension(i) is None],
        withdrawn=[i for i in visible if suspension(i) is not None],
        can_create=current_user.has_role("office"),
    )


def _inspection_values(form: InspectionForm) -> dict:
    return {
        "title": _text(form.title),
        "inspected_unit": _text(form.inspected_unit),
        "inspection_team": _text(form.inspection_team),
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "feedback_date": form.feedback_date.data,
        "approval_policy": form.approval_policy.data,
        "party_secretary_id": form.party_secretary_id.data or None,
        "contact_phone": _text(form.contact_phone),
        "contact_address": _text(form.contact_address),
        "contact_email": _text(form.contact_email),
        "remind_days": form.remind_days.data,
        "warn_days": form.warn_days.data,
        "interview_days": form.interview_days.data,
        "follow_up_months": form.follow_up_months.data,
    }


@bp.route("/inspections/new", methods=["GET", "POST"])
@roles_required("office")
def new_inspection():
    form = InspectionForm()
    form.set_choices(active_users_with("leader"))
    keep_input(lambda exc: _refused_new(form, _("New inspection"), exc))
    if form.validate_on_submit():
        values = _inspection_values(form)
        values["party_secretary"] = _choose(values.pop("party_secretary_id") or 0, User)
        inspection = create_inspection(Actor.of(current_user), **values)
        db.session.commit()
        flash(_("The inspection “%(title)s” has been created.", title=inspection.title), "success")
        return redirect(url_for("inspections.inspection", inspection_id=inspection.id))
    return render_template("inspections/form.html", form=form, title=_("New inspection"))


def _render_inspection(obj: Inspection, form: TransitionForm | None = None, failed=None, status=200):
    overview = inspection_overview(obj, current_user, today())
    withdrawal = None
    if suspension(obj) is not None:
        withdrawal = db.session.scalar(
            sa.select(WorkflowHistory)
            .where(
                WorkflowHistory.object_type == "inspection",
                WorkflowHistory.object_id == obj.id,
                WorkflowHistory.action == "withdraw",
            )
            .order_by(WorkflowHistory.id.desc())
            .limit(1)
        )
    return render_template(
        "inspections/inspection.html",
        overview=overview,
        can_edit=can(current_user, "edit", obj),
        can_add_item=can(current_user, "add_item", obj),
        can_share=can(current_user, "share", obj),
        transitions=allowed_transitions(current_user, obj),
        form=form or TransitionForm(formdata=None, version=obj.version),
        failed=failed,
        withdrawal=withdrawal,
    ), status


@bp.route("/inspections/<int:inspection_id>")
@roles_required(*INTERNAL)
def inspection(inspection_id: int):
    return _render_inspection(load(Inspection, inspection_id))


@bp.route("/inspections/<int:inspection_id>/transitions/<transition_id>", methods=["POST"])
@roles_required(*INTERNAL)
def inspection_transition(inspection_id: int, transition_id: str):
    """Withdraw (撤销) or restore an inspection, with the reason required."""
    obj = load(Inspection, inspection_id)
    form = TransitionForm()

    def refused(exc):
        form.show_refusal(exc)
        return _render_inspection(obj, form, failed=transition_id, status=exc.status)

    keep_input(refused)
    if not form.validate_on_submit():
        return _render_inspection(obj, form, failed=transition_id, status=400)
    steps = fire(
        Actor.of(current_user),
        obj,
        transition_id,
        comment=form.comment.data or "",
        expected_version=form.expected_version(),
    )
    db.session.commit()
    flash(
        _(
            "“%(action)s” done for the inspection “%(title)s”; it is now “%(state)s”.",
            action=transition_title(steps[0].transition),
            title=obj.title,
            state=state_title("lifecycle", steps[-1].to_state),
        ),
        "success",
    )
    return redirect(url_for("inspections.inspection", inspection_id=obj.id))


@bp.route("/inspections/<int:inspection_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_inspection(inspection_id: int):
    obj = load(Inspection, inspection_id, "edit")
    form = InspectionForm(obj=obj)
    form.set_choices(active_users_with("leader"))
    if request.method == "GET":
        form.party_secretary_id.data = obj.party_secretary_id or 0
    keep_input(lambda exc: _refused_form(form, obj, exc))
    if form.validate_on_submit():
        update_document(Actor.of(current_user), obj, _inspection_values(form), form.change_note.data or "")
        db.session.commit()
        flash(_("Your changes to the inspection “%(title)s” have been saved.", title=obj.title), "success")
        return redirect(url_for("inspections.inspection", inspection_id=obj.id))
    return render_template("inspections/form.html", form=form, title=obj.title, versioned=obj)


# --- categories -------------------------------------------------------------------------------


@bp.route("/inspections/<int:inspection_id>/categories/new", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def new_category(inspection_id: int):
    parent = load(Inspection, inspection_id, "edit")
    form = CategoryForm()
    if form.validate_on_submit():
        create_category(
            Actor.of(current_user),
            parent,
            label=_text(form.label),
            title=form.title.data,
            position=form.position.data or 0,
        )
        db.session.commit()
        flash(_("The category “%(title)s” has been added.", title=form.title.data.strip()), "success")
        return redirect(url_for("inspections.inspection", inspection_id=parent.id))
    return render_template("inspections/form.html", form=form, title=_("New category"), parent=parent)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_category(category_id: int):
    obj = load(Category, category_id, "edit")
    form = CategoryForm(obj=obj)
    if form.validate_on_submit():
        update_document(
            Actor.of(current_user),
            obj,
            {"label": _text(form.label), "title": _text(form.title), "position": form.position.data or 0},
            form.change_note.data or "",
        )
        db.session.commit()
        flash(_("Your changes to the category “%(title)s” have been saved.", title=obj.title), "success")
        return redirect(url_for("inspections.inspection", inspection_id=obj.inspection_id))
    return render_template("inspections/form.html", form=form, title=obj.title, versioned=obj)


# --- items ------------------------------------------------------------------------------------


def _item_form(inspection: Inspection, obj=None) -> ItemForm:
    form = ItemForm(obj=obj) if obj is not None else ItemForm()
    form.set_choices(
        inspection.categories,
        active_users_with("leader"),
        db.session.scalars(sa.select(Department).order_by(Department.name)).all(),
        active_users_with("staff"),
    )
    if obj is not None and request.method == "GET":
        for name in ("category_id", "responsible_leader_id", "department_id", "staff_id"):
            getattr(form, name).data = getattr(obj, name) or 0
        form.version.data = obj.version
    if obj is not None:
        form.fixed, held = [], {}
        for name in list(form._fields):
            permission = field_permission(RectificationItem, name)
            if permission != "edit" and permission not in held:
                held[permission] = can(current_user, permission, obj)  # once per permission
            if permission != "edit" and not held[permission]:
                form.fixed.append((form[name].label.text, _fixed_value(obj, name)))
                del form[name]  # what the user may not change is shown, not offered
    return form


def _fixed_value(item: RectificationItem, name: str) -> str:
    """How the edit form shows a field the user may not change."""
    value = {
        "category_id": item.category and f"{item.category.label} {item.category.title}".strip(),
        "responsible_leader_id": item.responsible_leader and item.responsible_leader.display_name,
        "department_id": item.department and item.department.name,
        "staff_id": item.staff and item.staff.display_name,
        "deadline": item.deadline and item.deadline.isoformat(),
    }.get(name, getattr(item, name))
    return "—" if value is None or value == "" else str(value)


#: How each item form field becomes the value saved (empty choices and text normalised).
_ITEM_VALUES = {
    "category_id": lambda f: f.data or None,
    "number": _text,
    "title": _text,
    "feedback_text": lambda f: f.data or "",
    "responsible_leader_id": lambda f: f.data or None,
    "department_id": lambda f: f.data or None,
    "staff_id": lambda f: f.data or None,
    "deadline": lambda f: f.data,
    "completion_summary": lambda f: f.data or "",
    "money_to_recover": lambda f: f.data,
    "money_recovered": lambda f: f.data,
    "public_summary": lambda f: f.data or "",
    "progress_override": lambda f: f.data,
}


def _item_values(form: ItemForm) -> dict:
    """The values of the fields the form offers (those the user may change)."""
    return {name: value(form[name]) for name, value in _ITEM_VALUES.items() if name in form}


@bp.route("/inspections/<int:inspection_id>/items/new", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def new_item(inspection_id: int):
    parent = load(Inspection, inspection_id, "add_item")
    form = _item_form(parent)
    if request.method == "GET" and request.args.get("category", type=int):
        form.category_id.data = request.args.get("category", type=int)
    keep_input(lambda exc: _refused_new(form, _("New item"), exc, parent=parent))
    if form.validate_on_submit():
        values = _item_values(form)
        values.pop("money_recovered"), values.pop("progress_override")
        item = create_item(
            Actor.of(current_user),
            parent,
            category=_choose(values.pop("category_id") or 0, Category),
            responsible_leader=_choose(values.pop("responsible_leader_id") or 0, User),
            staff=_choose(values.pop("staff_id") or 0, User),
            department=_choose(values.pop("department_id") or 0, Department),
            **values,
        )
        db.session.commit()
        flash(_("The rectification item “%(title)s” has been created.", title=item.title), "success")
        return redirect(url_for("inspections.item", item_id=item.id))
    return render_template("inspections/form.html", form=form, title=_("New item"), parent=parent)


def _refused_form(form, obj, exc):
    """The edit form again, with what the user typed and why it was refused."""
    form.form_errors.append(exc.message)
    title = getattr(obj, "title", None) or obj.label or obj.text[:20]
    return render_template("inspections/form.html", form=form, title=title, versioned=obj), exc.status


def _refused_new(form, title, exc, **context):
    """A creation form again, with what the user typed and why it was refused."""
    form.form_errors.append(exc.message)
    return render_template("inspections/form.html", form=form, title=title, **context), exc.status


def _refused_item(item, exc, **forms):
    """The item page again, with the refusal's message (and the forms as the user filled them)."""
    flash(exc.message, "danger")
    return render_item(item, status=exc.status, **forms)


@bp.route("/items/<int:item_id>")
@roles_required(*INTERNAL)
def item(item_id: int):
    return render_item(load(RectificationItem, item_id))


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_item(item_id: int):
    obj = load(RectificationItem, item_id, "edit")
    form = _item_form(obj.inspection, obj)
    keep_input(lambda exc: _refused_form(form, obj, exc))
    if form.validate_on_submit():
        update_document(
            Actor.of(current_user),
            obj,
            _item_values(form),
            form.change_note.data or "",
            form.expected_version(),
        )
        db.session.commit()
        flash(
            _("Your changes to the rectification item “%(title)s” have been saved.", title=obj.title),
            "success",
        )
        return redirect(url_for("inspections.item", item_id=obj.id))
    return render_template("inspections/form.html", form=form, title=obj.title, versioned=obj)


# --- measures ---------------------------------------------------------------------------------


@bp.route("/items/<int:item_id>/measures", methods=["POST"])
@roles_required(*INTERNAL)
def new_measure(item_id: int):
    parent = load(RectificationItem, item_id, "edit")
    form = MeasureForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return render_item(parent, measure_form=form, status=400)

    keep_input(lambda exc: _refused_item(parent, exc, measure_form=form))  # keeps the text typed
    add_measure(
        Actor.of(current_user),
        parent,
        label=form.label.data or "",
        text=form.text.data,
        deadline=form.deadline.data,
    )
    db.session.commit()
    flash(_("A measure has been added to the item “%(title)s”.", title=parent.title), "success")
    return redirect(url_for("inspections.item", item_id=parent.id) + "#measures")


@bp.route("/measures/<int:measure_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_measure(measure_id: int):
    obj = load(Measure, measure_id, "edit")
    form = MeasureForm(obj=obj)
    keep_input(lambda exc: _refused_form(form, obj, exc))
    if form.validate_on_submit():
        update_document(
            Actor.of(current_user),
            obj,
            {"label": _text(form.label), "text": _text(form.text), "deadline": form.deadline.data},
            form.change_note.data or "",
        )
        db.session.commit()
        flash(
            _(
                "Your changes to the measure “%(name)s” have been saved.",
                name=f"{obj.label}、{obj.text[:20]}" if obj.label else obj.text[:20],
            ),
            "success",
        )
        return redirect(url_for("inspections.item", item_id=obj.item_id) + "#measures")
    return render_template(
        "inspections/form.html", form=form, title=obj.label or obj.text[:20], versioned=obj
    )


@bp.route("/measures/<int:measure_id>/status", methods=["POST"])
@roles_required(*INTERNAL)
def measure_status(measure_id: int):
    obj = load(Measure, measure_id, "work")
    form = MeasureStatusForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return render_item(obj.item, status=400)
    keep_input(lambda exc: _refused_item(obj.item, exc))
    set_measure_status(Actor.of(current_user), obj, form.status.data, form.reason.data or "")
    db.session.commit()
    flash(
        _(
            "Measure %(label)s is now “%(status)s”.",
            label=obj.label or obj.text[:12],
            status=MEASURE_STATUS_TITLES[form.status.data],
        ),
        "success",
    )
    return redirect(url_for("inspections.item", item_id=obj.item_id) + "#measures")


@bp.route("/measures/<int:measure_id>/done", methods=["POST"])
@roles_required(*INTERNAL)
def measure_done(measure_id: int):
    obj = load(Measure, measure_id, "work")
    form = MeasureDoneForm()
    if not form.validate_on_submit():
        abort(400)
    keep_input(lambda exc: _refused_item(obj.item, exc))
    set_measure_done(Actor.of(current_user), obj, bool(form.done.data))
    db.session.commit()
    return redirect(url_for("inspections.item", item_id=obj.item_id) + "#measures")
