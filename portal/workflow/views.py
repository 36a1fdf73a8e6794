"""Item transitions and history (minimal pages; the documents issue builds the item page)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.extensions import db
from portal.inspections.models import RectificationItem
from portal.security import roles_required
from portal.timeutil import today
from portal.workflow import worklists
from portal.workflow.diagram import render_svg
from portal.workflow.forms import TransitionForm
from portal.workflow.operations import (
    Conflict,
    MissingRequirements,
    fire_transition,
    transition_title,
)
from workflows import WORKFLOWS, TransitionNotAllowed, UnknownTransition
from workflows.roles import GLOBAL_ROLES

bp = Blueprint("workflow", __name__)


@bp.route("/items/<int:item_id>/transitions/<transition_id>", methods=["POST"])
@roles_required(*GLOBAL_ROLES)
def transition(item_id: int, transition_id: str):
    from portal.inspections.views import load, render_item

    item = load(RectificationItem, item_id)
    form = TransitionForm()
    if not form.validate_on_submit():
        return render_item(item, form, failed=transition_id, status=400)
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
        return render_item(item, form, failed=transition_id, status=400)
    flash(_("Done: %(steps)s.", steps=" → ".join(transition_title(s.transition) for s in steps)),
          "success")
    return redirect(url_for("documents.item", item_id=item.id))


WORKLISTS = ("awaiting_review", "my_items", "overdue", "due_soon", "not_fixed")


@bp.route("/worklists/<name>")
@roles_required(*GLOBAL_ROLES)
def worklist(name: str):
    if name not in WORKLISTS:
        abort(404)
    page = request.args.get("page", 1, type=int)
    day = today()
    result = {
        "awaiting_review": lambda: worklists.awaiting_my_review(current_user, page),
        "my_items": lambda: worklists.my_items(current_user, page),
        "overdue": lambda: worklists.overdue(current_user, day, page),
        "due_soon": lambda: worklists.due_within(current_user, 7, day, page),
        "not_fixed": lambda: worklists.reported_not_fixed(current_user, page),
    }[name]()
    return render_template("workflow/worklist.html", name=name, page=result,
                           state_title=state_title, today=day)


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

