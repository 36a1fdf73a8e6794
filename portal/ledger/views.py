"""The ledger (整改台账) pages: export an inspection's items, import a ledger as an inspection."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.chain import Actor
from portal.core.downloads import attachment
from portal.core.extensions import db
from portal.core.loading import load
from portal.core.security import INTERNAL, roles_required
from portal.inspections.models import Inspection
from portal.inspections.queries import visible_items
from portal.ledger.forms import LedgerUploadForm
from portal.ledger.operations import LedgerInvalid, import_ledger, ledger_rows
from portal.ledger.xlsx import read_ledger, write_ledger

bp = Blueprint("ledger", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/inspections/<int:inspection_id>/ledger.xlsx")
@roles_required(*INTERNAL)
def export(inspection_id: int):
    inspection = load(Inspection, inspection_id)
    rows = ledger_rows(inspection, visible_items(inspection, current_user))
    return attachment(write_ledger(inspection.title, rows), XLSX, f"{inspection.title}-整改台账.xlsx")


@bp.route("/inspections/import-ledger", methods=["GET", "POST"])
@roles_required("office")
def upload():
    form = LedgerUploadForm()
    errors = []
    if form.validate_on_submit():
        ledger = read_ledger(form.file.data.stream)
        try:
            inspection = import_ledger(Actor.of(current_user), ledger, form.title.data or "")
            db.session.commit()
        except LedgerInvalid as exc:
            db.session.rollback()
            errors = exc.errors
            form.form_errors.append(exc.message)
        else:
            flash(_("Imported: %(n)d items.", n=len(ledger.rows)), "success")
            return redirect(url_for("inspections.inspection", inspection_id=inspection.id))
    return render_template("ledger/upload.html", form=form, errors=errors), 400 if errors else 200
