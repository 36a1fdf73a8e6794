"""Supervision pages: the letter of a warning (督办单 / 预警函), downloadable from its item."""

from __future__ import annotations

from flask import Blueprint, abort

from portal.core.downloads import attachment
from portal.core.extensions import db
from portal.core.loading import load
from portal.core.security import INTERNAL, roles_required
from portal.inspections.models import RectificationItem
from portal.supervision.letters import letter_title, render_letter
from portal.supervision.models import SupervisionWarning

bp = Blueprint("supervision", __name__)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.route("/items/<int:item_id>/warnings/<int:warning_id>.docx")
@roles_required(*INTERNAL)
def letter(item_id: int, warning_id: int):
    item = load(RectificationItem, item_id)  # 404 unless the user may see the item
    warning = db.session.get(SupervisionWarning, warning_id)
    if warning is None or warning.item_id != item.id:
        abort(404)
    return attachment(render_letter(warning), DOCX, f"{letter_title(warning)}-{item.number or item.id}.docx")
