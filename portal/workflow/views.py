"""Item transitions, the declared worklists' pages and the workflow diagrams."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.audit.chain import Actor
from portal.core import worklists
from portal.core.errors import MissingRequirements
from portal.core.extensions import db
from portal.core.handlers import keep_input
from portal.core.loading import load
from portal.core.security import INTERNAL, roles_required
from portal.core.timeutil import today
from portal.core.titles import transition_title
from portal.core.transitions import fire
from portal.inspections.item_page import render_item
from portal.inspections.models import RectificationItem
from portal.workflow.diagram import render_svg
from portal.workflow.forms import TransitionForm
from workflows import WORKFLOWS

bp = Blueprint("workflow", __name__)


@bp.route("/items/<int:item_id>/transitions/<transition_id>", methods=["POST"])
@roles_required(*INTERNAL)
def transition(item_id: int, transition_id: str):
    item = load(RectificationItem, item_id)
    form = TransitionForm()

    def refused(exc):
        """The item page again, with the comment typed and what is missing or wrong."""
        if isinstance(exc, MissingRequirements):
            for what, message in exc.missing.items():
                (form.comment.errors if what == "comment" else form.form_errors).append(message)
        else:
            form.form_errors.append(exc.message)
        return render_item(item, form, failed=transition_id, status=exc.status)

    keep_input(refused)
    if not form.validate_on_submit():
        return render_item(item, form, failed=transition_id, status=400)
    steps = fire(
        Actor.of(current_user),
        item,
        transition_id,
        comment=form.comment.data,
        expected_version=form.expected_version(),
    )
    db.session.commit()
    flash(_("Done: %(steps)s.", steps=" → ".join(transition_title(s.transition) for s in steps)), "success")
    return redirect(url_for("inspections.item", item_id=item.id))


@bp.route("/worklists/<name>")
@roles_required(*INTERNAL)
def worklist(name: str):
    """Every declared worklist has this page (or, for other content, its own) and a count."""
    declared = worklists.declared().get(name) or abort(404)
    own_page = getattr(declared.model, "__worklist_page__", None)
    if own_page:
        return redirect(url_for(own_page, state=declared.worklist.states[0]))
    day = today()
    page = worklists.page(name, current_user, day, request.args.get("page", 1, type=int))
    return render_template(
        "workflow/worklist.html", name=name, worklist=declared.worklist, page=page, today=day
    )


@bp.route("/workflows/")
@roles_required(*INTERNAL)
def workflows():
    lang = str(get_locale())
    # render_svg escapes every label, so its output is safe to inline.
    diagrams = {
        wf_id: Markup(render_svg(wf, lang))  # noqa: S704
        for wf_id, wf in WORKFLOWS.items()
    }
    return render_template("workflow/workflows.html", workflows=WORKFLOWS.values(), diagrams=diagrams)
