"""Writing the completion summary (整改成效) on the item page itself, where the submit
checklist asks for it, instead of on the full edit form.

A summary that someone else changed since the page was loaded is a conflict (409): the page
comes back with the text the user typed, kept in the box, beside the one saved meanwhile.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.core.handlers import keep_input
from portal.core.loading import load
from portal.core.security import INTERNAL, roles_required
from portal.inspections.item_page import SummaryForm, render_item
from portal.inspections.models import RectificationItem
from portal.inspections.operations import update_document

bp = Blueprint("item_summary", __name__)


@bp.route("/items/<int:item_id>/summary", methods=["POST"])
@roles_required(*INTERNAL)
def write_summary(item_id: int):
    item = load(RectificationItem, item_id, "edit")
    form = SummaryForm()

    def refused(exc):
        form.form_errors.append(exc.message)
        return render_item(item, summary_form=form, summary_conflict=exc.status == 409, status=exc.status)

    keep_input(refused)
    if not form.validate_on_submit():
        return render_item(item, summary_form=form, status=400)
    update_document(
        Actor.of(current_user),
        item,
        {"completion_summary": form.completion_summary.data.strip()},
        "",
        expected_version=form.expected_version(),
    )
    db.session.commit()
    flash(_("The completion summary (整改成效) has been saved."), "success")
    return redirect(url_for("inspections.item", item_id=item.id, _anchor="checklist"))
