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
from portal.core.titles import state_title
from portal.inspections.models import Inspection
from portal.ledger.forms import LedgerUploadForm
from portal.ledger.operations import LedgerInvalid, import_ledger, ledger_items, ledger_rows, not_carried
from portal.ledger.xlsx import read_ledger, write_ledger
from workflows import RECTIFICATION

bp = Blueprint("ledger", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/inspections/<int:inspection_id>/ledger.xlsx")
@roles_required(*INTERNAL)
def export(inspection_id: int):
    inspection = load(Inspection, inspection_id)
    rows = ledger_rows(inspection, ledger_items(inspection, current_user))
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
            flash(
                _(
                    "%(n)d items have been imported from the ledger into the new inspection “%(title)s”.",
                    n=len(ledger.rows),
                    title=inspection.title,
                ),
                "success",
            )
            skipped = not_carried(ledger)
            if skipped:
                flash(
                    _(
                        "Every imported item begins as “%(first)s”: states change only through the "
                        "workflow (evidence, approvals). The state or 100%% progress the ledger "
                        "reports was not taken over for row(s) %(rows)s; it is kept in the audit log.",
                        first=state_title("rectification", RECTIFICATION.initial),
                        rows="、".join(str(r.row) for r in skipped),
                    ),
                    "warning",
                )
            return redirect(url_for("inspections.inspection", inspection_id=inspection.id))
    return render_template("ledger/upload.html", form=form, errors=errors), 400 if errors else 200
