"""Public feedback (form, tracking code, lookup) and the office's moderation queue."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.models import Department
from portal.audit.chain import Actor
from portal.core.errors import NotFound, OperationError
from portal.core.extensions import db, limiter
from portal.core.loading import load_public
from portal.core.pages import attempt, flash_errors
from portal.core.security import INTERNAL, roles_required
from portal.core.transitions import fire
from portal.core.worklists import Page
from portal.feedback.forms import (
    KIND_LABELS,
    EditTextForm,
    FeedbackForm,
    ForwardForm,
    HandledForm,
    LookupForm,
    ModerationForm,
    ReplyForm,
)
from portal.feedback.mail import notify_moderators
from portal.feedback.models import Feedback
from portal.feedback.operations import (
    edit_text,
    find_by_code,
    forward_feedback,
    forward_target,
    mark_handled,
    submit_feedback,
)
from portal.inspections.models import Inspection, RectificationItem
from workflows import MODERATION

bp = Blueprint("feedback", __name__)
STATES = [s.id for s in MODERATION.states]
#: What the person who gave feedback is told of its moderation (spam is not called so to them).
PUBLIC_STATE_LABELS = {
    "pending": _l("Waiting for review (待审核)"),
    "published": _l("Published"),
    "rejected": _l("Not published"),
    "spam": _l("Not published"),
}


def _feedback_limit() -> str:
    return current_app.config["FEEDBACK_RATE_LIMIT"]


def _lookup_limit() -> str:
    return current_app.config["LOOKUP_RATE_LIMIT"]


def _target(inspection_id: int, item_id: int | None):
    """What the public may give feedback on: what it may see (a published item's inspection)."""
    inspection = load_public(Inspection, inspection_id)
    item = None
    if item_id is not None:
        item = load_public(RectificationItem, item_id)
        if item.inspection_id != inspection.id:
            abort(404)
    return inspection, item


@bp.route("/public/inspections/<int:inspection_id>/feedback", methods=["GET", "POST"])
@bp.route("/public/inspections/<int:inspection_id>/items/<int:item_id>/feedback", methods=["GET", "POST"])
@limiter.limit(_feedback_limit, methods=["POST"])
def give(inspection_id: int, item_id: int | None = None):
    inspection, item = _target(inspection_id, item_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        if form.website.data:  # the honeypot: a person never fills it in
            abort(400)
        feedback, code = submit_feedback(
            inspection,
            item,
            kind=form.kind.data,
            text=form.text.data,
            name=form.name.data or "",
            phone=form.phone.data or "",
            email=form.email.data or "",
        )
        notify_moderators(feedback)  # into the outbox, sent after the commit
        db.session.commit()
        return render_template(
            "feedback/received.html", code=code, feedback=feedback, inspection=inspection, item=item
        ), 201
    return render_template(
        "feedback/give.html", form=form, inspection=inspection, item=item
    ), 400 if form.errors else 200


def _publicly_shown(item_id: int) -> RectificationItem | None:
    """The item a lookup names, if the public may see it (published, nothing suspending it)."""
    try:
        return load_public(RectificationItem, item_id)
    except NotFound:
        return None


@bp.route("/public/feedback/lookup", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, methods=["POST"])
def lookup():
    form = LookupForm()
    found = None
    if form.validate_on_submit():
        found = find_by_code(form.code.data)
        if found is None:
            form.code.errors.append(_("No feedback has this tracking code. Check it and try again."))
    return render_template(
        "feedback/lookup.html",
        form=form,
        found=found,
        kind_labels=KIND_LABELS,
        public_item=_publicly_shown(found.item_id) if found and found.item_id else None,
        public_label=PUBLIC_STATE_LABELS,
    )


# --- moderation (office) ----------------------------------------------------------------------


#: reports on one page of the moderation queue
QUEUE_PER_PAGE = 25


@bp.route("/feedback/")
@roles_required("office", "auditor")
def queue():
    state = request.args.get("state", "pending")
    if state not in STATES:
        abort(404)
    counts = dict(
        db.session.execute(
            sa.select(Feedback.moderation_state, sa.func.count()).group_by(Feedback.moderation_state)
        ).all()
    )
    total = counts.get(state, 0)
    pages = max(1, -(-total // QUEUE_PER_PAGE))
    number = min(max(1, request.args.get("page", 1, type=int)), pages)
    rows = db.session.scalars(
        sa.select(Feedback)
        .where(Feedback.moderation_state == state)
        .options(
            sa.orm.selectinload(Feedback.inspection),
            sa.orm.selectinload(Feedback.item).selectinload(RectificationItem.department),
            sa.orm.selectinload(Feedback.forwarded_department),
        )
        .order_by(Feedback.id.desc())
        .limit(QUEUE_PER_PAGE)
        .offset((number - 1) * QUEUE_PER_PAGE)
    ).all()
    return render_template(
        "feedback/queue.html",
        rows=rows,
        page=Page(rows, total, number, QUEUE_PER_PAGE),
        state=state,
        states=STATES,
        counts=counts,
        kind_labels=KIND_LABELS,
        form=ModerationForm(formdata=None),
        reply_form=ReplyForm(formdata=None),
        edit_form=EditTextForm(formdata=None),
        forward_form=ForwardForm(formdata=None),
        departments=db.session.scalars(sa.select(Department).order_by(Department.name)).all(),
        forward_target=forward_target,
        can_moderate=current_user.has_role("office"),
    )


#: What the bulk form's actions did, for the message (n: how many).
BULK_DONE = {
    "publish": lambda n: _("%(n)d published.", n=n),
    "reject": lambda n: _("%(n)d not to be published.", n=n),
    "mark_spam": lambda n: _("%(n)d marked as spam.", n=n),
}


@bp.route("/feedback/bulk", methods=["POST"])
@roles_required("office")
def bulk():
    form = ModerationForm()
    valid = form.validate_on_submit()
    if not valid or not form.ids.data:
        if form.ids.data and form.action.errors:  # (the list offers no step until one is chosen)
            flash(_("Please choose what to do with the selected feedback."), "warning")
        else:
            flash(_("Please select at least one piece of feedback first."), "warning")
        return redirect(url_for("feedback.queue"))
    rows = db.session.scalars(sa.select(Feedback).where(Feedback.id.in_(form.ids.data))).all()
    actor = Actor.of(current_user)

    def run():
        for row in rows:
            fire(actor, row, form.action.data, comment=form.comment.data or "")

    try:
        attempt(run, BULK_DONE[form.action.data](len(rows)))
    except OperationError as exc:  # all or nothing: the queue says why and keeps the selection
        db.session.rollback()
        flash(
            exc.message if exc.status in (400, 409) else _("Not possible for the selected entries."), "danger"
        )
    return redirect(url_for("feedback.queue", state=request.args.get("state", "pending")))


def _one(feedback_id: int) -> Feedback:
    return db.session.get(Feedback, feedback_id) or abort(404)


@bp.route("/feedback/<int:feedback_id>/reply", methods=["POST"])
@roles_required("office")
def reply(feedback_id: int):
    row = _one(feedback_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        if form.reply.data and form.reply.data.strip():  # written, but it cannot be kept: say why
            flash_errors(form)
        else:
            flash(_("Write a reply first."), "warning")
    else:
        try:
            attempt(
                lambda: fire(Actor.of(current_user), row, "reply", comment=form.reply.data),
                _("Replied to feedback no. %(id)d; the reply is shown with it once published.", id=row.id),
            )
        except OperationError as exc:
            db.session.rollback()
            flash(exc.message if exc.status == 409 else _("Not possible for the selected entries."), "danger")
    return redirect(url_for("feedback.queue", state=row.moderation_state))


@bp.route("/feedback/<int:feedback_id>/edit", methods=["POST"])
@roles_required("office")
def edit(feedback_id: int):
    row = _one(feedback_id)
    form = EditTextForm()
    if not form.validate_on_submit():
        flash_errors(form)
    else:
        attempt(
            lambda: edit_text(Actor.of(current_user), row, form.text.data),
            _(
                "The text of feedback no. %(id)d has been changed; the original is kept for auditors.",
                id=row.id,
            ),
        )
    return redirect(url_for("feedback.queue", state=row.moderation_state))


@bp.route("/feedback/<int:feedback_id>/forward", methods=["POST"])
@roles_required("office")
def forward(feedback_id: int):
    row = _one(feedback_id)
    form = ForwardForm()
    department = db.session.get(Department, form.department_id.data) if form.validate_on_submit() else None
    if department is None:
        flash(_("Choose the department to forward it to."), "warning")
    else:
        attempt(
            lambda: forward_feedback(Actor.of(current_user), row, department, form.note.data or ""),
            _("Feedback no. %(id)d forwarded to %(department)s.", id=row.id, department=department.name),
        )
    return redirect(url_for("feedback.queue", state=row.moderation_state, _anchor=f"feedback-{row.id}"))


@bp.route("/feedback/<int:feedback_id>/handled", methods=["POST"])
@roles_required(*INTERNAL)
def handled(feedback_id: int):
    """The department marks a report forwarded to it as handled (its worklist's step)."""
    row = _one(feedback_id)
    form = HandledForm()
    if not form.validate_on_submit():
        flash_errors(form)
    else:
        attempt(
            lambda: mark_handled(Actor.of(current_user), row, form.note.data or ""),
            _("Feedback no. %(id)d marked as handled; the office can see it.", id=row.id),
        )
    return redirect(url_for("workflow.worklist", name="forwarded_feedback"))
