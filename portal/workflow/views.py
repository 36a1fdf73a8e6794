"""Item transitions and history (minimal pages; the documents issue builds the item page)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.extensions import db
from portal.inspections.models import RectificationItem
from portal.security import roles_required
from portal.workflow.diagram import render_svg
from portal.workflow.forms import TransitionForm
from portal.workflow.models import Approval, WorkflowHistory
from portal.workflow.operations import (
    Conflict,
    MissingRequirements,
    fire_transition,
    transition_title,
)
from portal.workflow.policy import allowed_transitions, can
from workflows import WORKFLOWS, TransitionNotAllowed, UnknownTransition
from workflows.roles import GLOBAL_ROLES

bp = Blueprint("workflow", __name__)


def get_item(item_id: int, permission: str = "view") -> RectificationItem:
    """Load an item or 404; 403 unless the current user holds `permission` on it."""
    item = db.get_or_404(RectificationItem, item_id)
    if not can(current_user, permission, item):
        abort(403 if current_user.is_authenticated else 404)
    return item


def _history_page(item: RectificationItem, form: TransitionForm | None = None,
                  failed: str | None = None, status: int = 200):
    history = db.session.scalars(
        sa.select(WorkflowHistory).where(WorkflowHistory.object_type == "item",
                                         WorkflowHistory.object_id == item.id)
        .order_by(WorkflowHistory.id.desc())).all()
    approvals = db.session.scalars(
        sa.select(Approval).where(Approval.item_id == item.id).order_by(Approval.id)).all()
    return render_template(
        "workflow/history.html", item=item, history=history, approvals=approvals,
        transitions=allowed_transitions(current_user, item), form=form or TransitionForm(
            formdata=None, version=item.version), failed=failed,
        transition_title=transition_title, state_title=state_title,
        action_title=lambda wf, action: transition_title(WORKFLOWS[wf].transition(action))), status


@bp.route("/items/<int:item_id>/history")
@roles_required(*GLOBAL_ROLES)
def history(item_id: int):
    return _history_page(get_item(item_id))


@bp.route("/items/<int:item_id>/transitions/<transition_id>", methods=["POST"])
@roles_required(*GLOBAL_ROLES)
def transition(item_id: int, transition_id: str):
    item = get_item(item_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        return _history_page(item, form, failed=transition_id, status=400)
    try:
        steps = fire_transition(current_user, item, transition_id, comment=form.comment.data,
                                expected_version=form.expected_version())
        db.session.commit()
    except UnknownTransition:
        abort(404)
    except TransitionNotAllowed:
        abort(403)
    except Conflict:
        db.session.rollback()
        abort(409)
    except MissingRequirements as exc:
        db.session.rollback()
        for what, message in exc.missing.items():
            (form.comment.errors if what == "comment" else form.form_errors).append(message)
        return _history_page(item, form, failed=transition_id, status=400)
    flash(_("Done: %(steps)s.", steps=" → ".join(transition_title(s.transition) for s in steps)),
          "success")
    return redirect(url_for("workflow.history", item_id=item.id))


def state_title(workflow_id: str, state_id: str) -> str:
    state = WORKFLOWS[workflow_id].state(state_id)
    return state.title_zh if str(get_locale()).startswith("zh") else state.title_en


@bp.route("/workflows/")
@roles_required(*GLOBAL_ROLES)
def workflows():
    lang = str(get_locale())
    # render_svg escapes every label, so its output is safe to inline.
    diagrams = {wf_id: Markup(render_svg(wf, lang))  # noqa: S704
                for wf_id, wf in WORKFLOWS.items()}
    return render_template("workflow/workflows.html", workflows=WORKFLOWS.values(),
                           diagrams=diagrams, zh=lang.startswith("zh"))

