"""Uploading, downloading and withdrawing evidence."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.audit.chain import Actor
from portal.core.downloads import stored_file
from portal.core.extensions import db
from portal.core.loading import load
from portal.core.pages import attempt, flash_errors
from portal.core.security import INTERNAL, roles_required
from portal.evidence.forms import EvidenceForm
from portal.evidence.models import Evidence
from portal.evidence.operations import add_evidence_file, add_evidence_note, withdraw_evidence
from portal.evidence.storage import FileStore
from portal.inspections.item_page import render_item
from portal.inspections.models import RectificationItem

bp = Blueprint("evidence", __name__)


def evidence_store() -> FileStore:
    return FileStore(current_app.config["EVIDENCE_DIR"])


@bp.route("/items/<int:item_id>/evidence", methods=["POST"])
@roles_required(*INTERNAL)
def add(item_id: int):
    item = load(RectificationItem, item_id, "work")
    form = EvidenceForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return render_item(item, evidence_form=form, status=400)
    actor = Actor.of(current_user)
    upload = form.file.data

    def add_it():
        if form.has_file():
            add_evidence_file(
                actor,
                item,
                evidence_store(),
                upload.stream,
                upload.filename,
                current_app.config["EVIDENCE_EXTENSIONS"],
                note=form.note.data or "",
                public=form.public.data,
            )
        else:
            add_evidence_note(actor, item, form.note.data, public=form.public.data)

    if not attempt(add_it, _("Evidence has been added to the item “%(title)s”.", title=item.title)):
        return render_item(item, evidence_form=form, status=400)  # keeps the note typed
    return redirect(url_for("inspections.item", item_id=item.id) + "#evidence")


def _load_evidence(evidence_id: int, permission: str) -> tuple[Evidence, RectificationItem]:
    evidence = db.session.get(Evidence, evidence_id) or abort(404)
    return evidence, load(RectificationItem, evidence.item_id, permission)


@bp.route("/evidence/<int:evidence_id>/download")
@roles_required(*INTERNAL)
def download(evidence_id: int):
    evidence, _item = _load_evidence(evidence_id, "view")
    if not evidence.is_file:
        abort(404)
    store = evidence_store()
    if store.sha256(evidence.storage_key) != evidence.sha256:
        current_app.logger.error("evidence %s failed its SHA-256 check", evidence.id)
        abort(409)
    return stored_file(
        store.open(evidence.storage_key), evidence.content_type, evidence.filename, private=True
    )


@bp.route("/evidence/<int:evidence_id>/withdraw", methods=["POST"])
@roles_required(*INTERNAL)
def withdraw(evidence_id: int):
    evidence, item = _load_evidence(evidence_id, "work")
    if not FlaskForm().validate_on_submit():
        abort(400)
    attempt(
        lambda: withdraw_evidence(Actor.of(current_user), evidence, item),
        _(
            "The evidence “%(name)s” has been withdrawn; it stays in the item's history.",
            name=evidence.filename or evidence.note[:30],
        ),
        "info",
    )
    return redirect(url_for("inspections.item", item_id=item.id) + "#evidence")
