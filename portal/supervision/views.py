"""Supervision pages: the letter of a warning (督办单 / 预警函), downloadable from its item; the
supervision dashboard (督查督办驾驶舱) and its workbook."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from portal.core.downloads import attachment
from portal.core.extensions import db
from portal.core.http_cache import private_page
from portal.core.loading import load
from portal.core.security import INTERNAL, roles_required
from portal.core.timeutil import today
from portal.inspections.models import RectificationItem
from portal.supervision.charts import dashboard_charts
from portal.supervision.closing_sheet import may_download as may_download_closing_sheet
from portal.supervision.closing_sheet import render_closing_sheet, sheet_filename
from portal.supervision.dashboard import dashboard as dashboard_figures
from portal.supervision.dashboard_xlsx import write_dashboard
from portal.supervision.forms import DashboardFilterForm
from portal.supervision.letters import letter_title, render_letter
from portal.supervision.models import SupervisionWarning

bp = Blueprint("supervision", __name__)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: who reads the dashboard: the office across inspections, leaders over their own scope
DASHBOARD_READERS = ("office", "leader", "auditor")  # auditors read everything


@bp.route("/items/<int:item_id>/warnings/<int:warning_id>.docx")
@roles_required(*INTERNAL)
def letter(item_id: int, warning_id: int):
    item = load(RectificationItem, item_id)  # 404 unless the user may see the item
    warning = db.session.get(SupervisionWarning, warning_id)
    if warning is None or warning.item_id != item.id:
        abort(404)
    return attachment(render_letter(warning), DOCX, f"{letter_title(warning)}-{item.number or item.id}.docx")


@bp.route("/items/<int:item_id>/closing-sheet.docx")
@roles_required(*INTERNAL)
def closing_sheet(item_id: int):
    """The item's 对账销号单, once it is completed (404 before: there is nothing to close)."""
    item = load(RectificationItem, item_id)  # 404 unless the user may see the item
    if not may_download_closing_sheet(current_user, item):
        abort(404)
    return attachment(render_closing_sheet(item), DOCX, sheet_filename(item))


def _filtered(**limit):
    """The figures for the inspection chosen in the query string, and the filter form; a
    choice the user may not see is refused with a message and the figures of all."""
    form = DashboardFilterForm(request.args)
    wanted = request.args.get("inspection", "")
    figures = dashboard_figures(current_user, today(), int(wanted) if wanted.isdigit() else None, **limit)
    form.setup_choices(figures.inspections)
    if form.validate():
        return figures, form
    return dashboard_figures(current_user, today(), None, **limit), form


@bp.route("/dashboard")
@roles_required(*DASHBOARD_READERS)
@private_page
def dashboard():
    figures, form = _filtered()
    return render_template(
        "supervision/dashboard.html", d=figures, form=form, charts=dashboard_charts(figures)
    ), 400 if form.errors else 200


@bp.route("/dashboard.xlsx")
@roles_required(*DASHBOARD_READERS)
def dashboard_xlsx():
    figures, form = _filtered(limit=None)
    if form.errors:
        abort(404)
    name = figures.inspection.title if figures.inspection else "全部巡察"
    return attachment(
        write_dashboard(figures), XLSX, f"督查督办驾驶舱-{name}-{figures.today.isoformat()}.xlsx"
    )
