"""延期申请 pages: file a request from the item page, decide on it, the worklist page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.chain import Actor
from portal.core.errors import MissingRequirements
from portal.core.extensions import db
from portal.core.handlers import keep_input
from portal.core.loading import load
from portal.core.security import INTERNAL, roles_required
from portal.core.titles import title_of, transition_title
from portal.core.transitions import fire
from portal.deadlines.forms import ExtensionRequestForm
from portal.deadlines.models import ExtensionRequest
from portal.deadlines.operations import request_extension
from portal.inspections.item_page import render_item
from portal.inspections.models import RectificationItem
from portal.workflow.forms import TransitionForm
from workflows import EXTENSION

bp = Blueprint("deadlines", __name__)

#: Where each form field's refusal is shown; the others are shown above the form.
FIELDS = ("proposed_deadline", "reason", "progress_note")


def _item_url(item_id: int, anchor: str = "deadlines") -> str:
    return url_for("inspections.item", item_id=item_id, _anchor=anchor)


@bp.route("/items/<int:item_id>/extensions", methods=["POST"])
@roles_required(*INTERNAL)
def file_request(item_id: int):
    item = load(RectificationItem, item_id, "request_extension")
    form = ExtensionRequestForm()

    def refused(exc):
        """The item page again, with what was typed and what is wrong."""
        problems = exc.missing if isinstance(exc, MissingRequirements) else {"": exc.message}
        for what, message in problems.items():
            (getattr(form, what).errors if what in FIELDS else form.form_errors).append(message)
        return render_item(item, extension_form=form, status=exc.status)

    keep_input(refused)
    if not form.validate_on_submit():
        return render_item(item, extension_form=form, status=400)
    request = request_extension(
        Actor.of(current_user),
        item,
        proposed_deadline=form.proposed_deadline.data,
        reason=form.reason.data,
        progress_note=form.progress_note.data,
        expected_version=form.expected_version(),
    )
    db.session.commit()
    flash(
        _(
            "Extension request filed: the deadline %(old)s would become %(new)s once the responsible "
            "leader and then the inspection office approve it.",
            old=request.old_deadline.isoformat(),
            new=request.proposed_deadline.isoformat(),
        ),
        "success",
    )
    return redirect(_item_url(item.id))


@bp.route("/extensions/<int:request_id>/transitions/<transition_id>", methods=["POST"])
@roles_required(*INTERNAL)
def decide(request_id: int, transition_id: str):
    request = load(ExtensionRequest, request_id)
    item = request.item
    form = TransitionForm()

    def refused(exc):
        form.show_refusal(exc)
        return render_item(
            item,
            extension_decision_form=form,
            extension_failed=(request.id, transition_id),
            status=exc.status,
        )

    keep_input(refused)
    if not form.validate_on_submit():
        return render_item(
            item, extension_decision_form=form, extension_failed=(request.id, transition_id), status=400
        )
    steps = fire(
        Actor.of(current_user),
        request,
        transition_id,
        comment=form.comment.data,
        expected_version=form.expected_version(),
    )
    db.session.commit()
    flash(
        _(
            "“%(action)s” done for the extension request to %(date)s; it is now “%(state)s”.",
            action=transition_title(steps[0].transition),
            date=request.proposed_deadline.isoformat(),
            state=title_of(EXTENSION.state(steps[-1].to_state)),
        ),
        "success",
    )
    return redirect(_item_url(item.id, f"extension-{request.id}"))
