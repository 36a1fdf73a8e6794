"""Public pages: published inspections, their items, the generated notice. No sign-in needed."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.core.downloads import attachment, stored_file
from portal.core.extensions import db, limiter
from portal.core.handlers import render_error
from portal.core.http_cache import public_page
from portal.core.loading import load_public
from portal.core.timeutil import today
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore
from portal.feedback.forms import FixCheckForm
from portal.feedback.operations import answer_fix_check, fix_check_open
from portal.inspections.models import Inspection, RectificationItem
from portal.notices.export import build_notice, render_docx, template_helpers
from portal.public import queries
from portal.supervision.levels import item_level

bp = Blueprint("public", __name__, url_prefix="/public")
FILTERS = ("completed", "under_way", "not_completed")


def _public_inspection(inspection_id: int) -> Inspection:
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or not queries.has_published_items(inspection):
        abort(404)
    return inspection


@bp.route("/")
@public_page
def inspections():
    return render_template("public/inspections.html", rows=queries.published_inspections())


@bp.route("/inspections/<int:inspection_id>")
@public_page
def inspection(inspection_id: int):
    obj = _public_inspection(inspection_id)
    state = request.args.get("state") if request.args.get("state") in FILTERS else None
    category_id = request.args.get("category", type=int)
    shown = queries.inspection_page(obj, state, category_id, today(), request.args.get("page", 1, type=int))
    return render_template(
        "public/inspection.html",
        inspection=obj,
        rows=shown.items,
        page=shown,
        headline=queries.totals(obj),
        categories=queries.categories_of(obj),
        per_category=queries.category_progress(obj),
        state=state,
        category_id=category_id,
    )


@bp.route("/items/<int:item_id>")
@public_page
def item(item_id: int):
    return render_item(queries.public_item(item_id) or abort(404))


def render_item(obj, fix_form: FixCheckForm | None = None) -> str:
    """The public item page; `fix_form` is an answer sent back with its errors (kept as given)."""
    extended = bool(queries.extended_items([obj]))  # an approved extension request (延期申请)
    if fix_form is None and fix_check_open(obj):
        fix_form = FixCheckForm(formdata=None)
    return render_template(
        "public/item.html",
        item=obj,
        measures=queries.public_measures(obj),
        timeline=queries.public_timeline(obj),
        evidence=queries.public_evidence(obj),
        extended=extended,
        level=item_level(obj, today()),
        feedback=queries.public_feedback(obj),
        fix_form=fix_form,
    )


@bp.route("/evidence/<int:evidence_id>")
def evidence(evidence_id: int):
    piece = db.session.get(Evidence, evidence_id)
    if (
        piece is None
        or not piece.public
        or piece.withdrawn_at
        or not piece.is_file
        or queries.public_item(piece.item_id) is None
    ):
        abort(404)
    store = FileStore(current_app.config["EVIDENCE_DIR"])
    if store.sha256(piece.storage_key) != piece.sha256:
        abort(409)
    return stored_file(store.open(piece.storage_key), piece.content_type, piece.filename, private=False)


@bp.route("/inspections/<int:inspection_id>/notice")
@public_page
def notice(inspection_id: int):
    obj = _public_inspection(inspection_id)
    items = [r.item for r in queries.inspection_rows(obj)]
    return render_template(
        "public/notice.html", inspection=obj, notice=build_notice(obj, items), **template_helpers()
    )


@bp.route("/inspections/<int:inspection_id>/notice.docx")
def notice_docx(inspection_id: int):
    obj = _public_inspection(inspection_id)
    items = [r.item for r in queries.inspection_rows(obj)]
    return attachment(
        render_docx(build_notice(obj, items)),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        f"{obj.title}.docx",
    )


@bp.route("/items/<int:item_id>/fixed", methods=["POST"])
@limiter.limit(lambda: current_app.config["FEEDBACK_RATE_LIMIT"])
def fix_check(item_id: int):
    """“Is it really fixed?” (真的改好了吗): a visitor's answer on a published item."""
    item = load_public(RectificationItem, item_id)
    if not fix_check_open(item):
        abort(404)
    form = FixCheckForm()
    if form.website.data:  # the honeypot: a person never fills it in
        abort(400)
    if not form.validate_on_submit():  # the page again, saying what is wrong, with the comment kept
        if "csrf_token" in form.errors:
            return render_error(400, " ".join(str(e) for e in form.errors["csrf_token"]))
        return render_item(item, form), 400
    answer_fix_check(item, form.answer.data, form.comment.data or "")
    db.session.commit()
    flash(_("Thank you. Your answer helps the office decide on a follow-up check (回头看)."), "success")
    return redirect(url_for("public.item", item_id=item.id))
