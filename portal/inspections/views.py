"""Inspection overview, item page, and the create/edit forms of every document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal.accounts.models import Department, User, active_users_with
from portal.audit.chain import Actor
from portal.core.content import field_permission
from portal.core.extensions import db
from portal.core.filters import permitted
from portal.core.filters import visible as visible_clause
from portal.core.handlers import keep_input
from portal.core.http_cache import private_page
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
    TABLE_PAGE_SIZE,
    TABLE_SORTS,
    BulkAssignForm,
    CategoryForm,
    InspectionForm,
    ItemForm,
    ItemTableFilterForm,
    MeasureDoneForm,
    MeasureForm,
    MeasureStatusForm,
)
from portal.inspections.item_page import render_item
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.inspections.operations import (
    add_measure,
    assign_items,
    create_category,
    create_inspection,
    create_item,
    set_measure_done,
    set_measure_status,
    update_document,
)
from portal.inspections.queries import inspection_overview, progress_expression
from portal.supervision.levels import BY_ID as LEVELS
from portal.supervision.levels import Level, level_expression
from portal.versions.display import changed_since
from portal.versions.operations import latest_number
from portal.workflow.forms import TransitionForm
from workflows.rectification import CLOSED as CLOSED_STATES
from workflows.rectification import RECTIFICATION

bp = Blueprint("inspections", __name__)


@bp.app_template_global()
def document_trail(obj) -> list[tuple[str, str]]:
    """The breadcrumbs above a page about a document (its edit form, its sharing, its versions,
    its notice): 巡察整改, then its inspection, then its item, each a link; `obj` included."""
    trail = [(_("Inspections"), url_for("inspections.inspections"))]
    item = obj.item if isinstance(obj, Measure) else obj
    if isinstance(item, RectificationItem):
        inspection = item.inspection
    elif isinstance(obj, Category):
        inspection = obj.inspection
    else:
        inspection = obj if isinstance(obj, Inspection) else None
    if inspection is not None:
        url = url_for("inspections.inspection", inspection_id=inspection.id)
        trail.append((inspection.title, url))
    if isinstance(item, RectificationItem):
        trail.append((item.title, url_for("inspections.item", item_id=item.id)))
    return trail


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


# --- the inspection page: its items as a sortable, filterable table ----------------------------

Item = RectificationItem
#: the joins the sort reads, aliased so that the policy's correlated subqueries (on categories,
#: users) keep their own FROM clauses
Staff = so.aliased(User)
SortCategory = so.aliased(Category)

#: The query-string arguments the table reads (kept by its sort, page and bulk-assign links).
TABLE_ARGS = ("sort", "dir", "state", "department", "category", "overdue", "from", "to", "page")


@dataclass
class TableRow:
    item: RectificationItem
    progress: int
    #: its deadline level (三色), decided in SQL
    level: Level
    #: may the user set its department, staff and deadline (the "assign" field permission)?
    assignable: bool
    #: days to the deadline (negative: overdue) while the item is open, else None
    days_left: int | None


@dataclass
class ItemTable:
    rows: list[TableRow]
    total: int
    page: int
    pages: int
    sort: str
    descending: bool
    #: the filters and sort as query-string arguments (for the page links)
    args: dict

    @property
    def first(self) -> int:
        return (self.page - 1) * TABLE_PAGE_SIZE + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * TABLE_PAGE_SIZE, self.total)

    @property
    def assignable(self) -> bool:
        return any(r.assignable for r in self.rows)


def _sort_order(sort: str, descending: bool) -> list:
    """ORDER BY for a ?sort= value: empty values last either way, then the item's id."""

    def by(column, *, empty=None):
        key = column.desc() if descending else column.asc()
        return ([sa.case((empty, 1), else_=0)] if empty is not None else []) + [key]

    if sort == "number":  # 2 before 10: shorter numbers first
        order = by(sa.func.length(Item.number), empty=Item.number == "") + by(Item.number)
    elif sort == "title":
        order = by(Item.title)
    elif sort == "department":
        order = by(Department.name, empty=Department.name.is_(None))
    elif sort == "staff":
        order = by(Staff.display_name, empty=Staff.display_name.is_(None))
    elif sort == "deadline":
        order = by(Item.deadline, empty=Item.deadline.is_(None))
    elif sort == "state":  # in the workflow's order, not the alphabet's
        order = by(sa.case({s.id: n for n, s in enumerate(RECTIFICATION.states)}, value=Item.state))
    elif sort == "progress":
        order = by(progress_expression())
    else:  # the notice's order: by category, then as the items were created
        order = [sa.func.coalesce(SortCategory.position, 1_000_000), Item.category_id, Item.id]
    return [*order, Item.id]


def _item_table(inspection: Inspection, form: ItemTableFilterForm, day: date, args) -> ItemTable:
    """One page of the items `current_user` may see, filtered and sorted in SQL (two statements:
    the count, and the rows with their progress, deadline level and assign permission)."""
    sort = args.get("sort", "")
    sort = sort if sort in TABLE_SORTS else ""
    descending = args.get("dir") == "desc"
    where = [Item.inspection_id == inspection.id, visible_clause(current_user, Item)]
    if form.state.data:
        where.append(Item.state == form.state.data)
    if form.chosen_id(form.department) is not None:
        where.append(Item.department_id == form.chosen_id(form.department))
    if form.chosen_id(form.category) is not None:
        where.append(Item.category_id == form.chosen_id(form.category))
    if form.overdue.data:
        where += [Item.deadline < day, Item.state.not_in(CLOSED_STATES)]
    if form.deadline_from.data and not form.deadline_from.errors:
        where.append(Item.deadline >= form.deadline_from.data)
    if form.deadline_to.data and not form.deadline_to.errors:
        where.append(Item.deadline <= form.deadline_to.data)
    total = db.session.scalar(sa.select(sa.func.count(Item.id)).where(*where))
    pages = max(1, -(-total // TABLE_PAGE_SIZE))
    page = min(max(args.get("page", 1, type=int), 1), pages)
    found = db.session.execute(
        sa.select(
            Item,
            progress_expression(),
            level_expression(Item, day),
            sa.case((permitted(current_user, Item, "assign"), 1), else_=0),
        )
        .outerjoin(SortCategory, SortCategory.id == Item.category_id)
        .outerjoin(Department, Department.id == Item.department_id)
        .outerjoin(Staff, Staff.id == Item.staff_id)
        .options(so.contains_eager(Item.department), so.contains_eager(Item.staff.of_type(Staff)))
        .where(*where)
        .order_by(*_sort_order(sort, descending))
        .offset((page - 1) * TABLE_PAGE_SIZE)
        .limit(TABLE_PAGE_SIZE)
    ).all()
    rows = [
        TableRow(
            item,
            int(progress or 0),
            LEVELS[level],
            bool(assignable),
            None if item.deadline is None or item.state in CLOSED_STATES else (item.deadline - day).days,
        )
        for item, progress, level, assignable in found
    ]
    kept = {k: v for k in TABLE_ARGS if k != "page" and (v := args.get(k))}
    return ItemTable(rows, total, page, pages, sort, descending, kept)


def _table_forms(inspection: Inspection, args, bulk: BulkAssignForm | None = None):
    """The filter form (from the query string) and the bulk-assign form, with their choices."""
    departments = db.session.scalars(sa.select(Department).order_by(Department.name)).all()
    filters = ItemTableFilterForm(args)
    filters.set_choices(
        [(s, state_title("rectification", s.id)) for s in RECTIFICATION.states],
        departments,
        inspection.categories,
    )
    filters.validate()
    if bulk is None:
        bulk = BulkAssignForm(formdata=None, query=urlencode(list(args.items(multi=True))))
        bulk.items.data = args.getlist("selected", type=int)
    bulk.set_choices(departments, active_users_with("staff"))
    return filters, bulk


def _render_inspection(
    obj: Inspection, form: TransitionForm | None = None, failed=None, status=200, bulk=None, args=None
):
    day = today()
    args = request.args if args is None else args
    overview = inspection_overview(obj, current_user)
    filters, bulk = _table_forms(obj, args, bulk)
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
        table=_item_table(obj, filters, day, args),
        filters=filters,
        bulk=bulk,
        can_edit=can(current_user, "edit", obj),
        can_add_item=can(current_user, "add_item", obj),
        can_share=can(current_user, "share", obj),
        transitions=allowed_transitions(current_user, obj),
        form=form or TransitionForm(formdata=None, version=obj.version),
        failed=failed,
        withdrawal=withdrawal,
    ), 400 if status == 200 and filters.errors else status


@bp.route("/inspections/<int:inspection_id>")
@roles_required(*INTERNAL)
@private_page
def inspection(inspection_id: int):
    return _render_inspection(load(Inspection, inspection_id))


def _table_args(query: str) -> MultiDict:
    """The table's arguments in a query string (the page's, sent back with the bulk form)."""
    return MultiDict([(k, v) for k, v in parse_qsl(query) if k in TABLE_ARGS])


def _back_to_table(inspection: Inspection, query: str, selected=()) -> str:
    """The inspection page sorted and filtered as the form was sent from, with `selected` ticked."""
    args = {**_table_args(query).to_dict(), "selected": list(selected)}
    return url_for("inspections.inspection", inspection_id=inspection.id, **args) + "#items"


@bp.route("/inspections/<int:inspection_id>/assign", methods=["POST"])
@roles_required(*INTERNAL)
def bulk_assign(inspection_id: int):
    """Set the department, staff or deadline of the items ticked in the table, each through
    the item's own update (one audit event per item changed); refusals are listed."""
    obj = load(Inspection, inspection_id)
    may_assign = db.session.scalar(
        sa.select(Item.id)
        .where(Item.inspection_id == obj.id, permitted(current_user, Item, "assign"))
        .limit(1)
    )
    if may_assign is None:
        abort(403)
    form = BulkAssignForm()
    form.set_choices(
        db.session.scalars(sa.select(Department).order_by(Department.name)).all(),
        active_users_with("staff"),
    )
    keep_input(lambda exc: _render_bulk_refused(obj, form, exc))  # changed meanwhile: 409
    if not form.validate_on_submit():
        return _render_bulk_refused(obj, form)
    items = db.session.scalars(
        sa.select(Item)
        .where(Item.id.in_(form.items.data), Item.inspection_id == obj.id, visible_clause(current_user, Item))
        .order_by(Item.id)
    ).all()
    done = assign_items(Actor.of(current_user), items, form.values())
    db.session.commit()
    gone = len(set(form.items.data) - {item.id for item in items})  # withdrawn or unshared meanwhile
    if done.changed or not done.refused:
        flash(
            _(
                "%(n)d item(s) updated; %(same)d already had what was chosen.",
                n=len(done.changed),
                same=len(done.unchanged),
            )
            if done.unchanged
            else _("%(n)d item(s) updated.", n=len(done.changed)),
            "success",
        )
    if done.refused:
        flash(
            _(
                "Not changed: %(items)s.",
                items="；".join(f"{_item_name(item)}（{reason}）" for item, reason in done.refused),
            ),
            "warning",
        )
    if gone:
        flash(_("%(n)d ticked item(s) are no longer in this inspection for you.", n=gone), "warning")
    kept = form.items.data if done.refused or gone else ()
    return redirect(_back_to_table(obj, form.query.data or "", kept))


def _item_name(item: RectificationItem) -> str:
    return f"{item.number}. {item.title}" if item.number else item.title


def _render_bulk_refused(obj: Inspection, form: BulkAssignForm, exc=None):
    """The page again with the bulk form as filled in (ticks, choices, the date typed) and why."""
    if exc is not None:
        form.form_errors.append(exc.message)
    status = 400 if exc is None else exc.status
    return _render_inspection(obj, bulk=form, status=status, args=_table_args(form.query.data or ""))


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
    _seen(form, obj)
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
    """The edit form again, with what the user typed and why it was refused; on a conflict
    (409), also what changed meanwhile, and the form set to the current version so that saving
    again replaces it knowingly."""
    title = getattr(obj, "title", None) or obj.label or obj.text[:20]
    changed = None
    if exc.status == 409 and hasattr(form, "seen"):
        changed = changed_since(obj, form.seen.data)
        form.version.data, form.seen.data = getattr(obj, "version", form.version.data), latest_number(obj)
    if changed is None:  # (the table of changes says it all, with what to do)
        form.form_errors.append(exc.message)
    return render_template(
        "inspections/form.html", form=form, title=title, versioned=obj, changed_meanwhile=changed
    ), exc.status


def _seen(form, obj) -> None:
    """Note in a freshly shown edit form which version of `obj` it shows."""
    if request.method == "GET" and hasattr(form, "seen"):
        form.seen.data = latest_number(obj)


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
@private_page
def item(item_id: int):
    return render_item(load(RectificationItem, item_id))


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@roles_required(*INTERNAL)
def edit_item(item_id: int):
    obj = load(RectificationItem, item_id, "edit")
    form = _item_form(obj.inspection, obj)
    keep_input(lambda exc: _refused_form(form, obj, exc))
    _seen(form, obj)
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
    _seen(form, obj)
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
