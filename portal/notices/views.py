"""Notices: the import page (upload, correct the parsed tree, create) and the generated notice."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import User, active_users_with
from portal.audit.chain import Actor
from portal.core.downloads import attachment
from portal.core.extensions import db
from portal.core.loading import load
from portal.core.security import INTERNAL, roles_required
from portal.inspections.models import Inspection
from portal.inspections.queries import visible_items
from portal.notices.export import build_notice, render_docx, render_text, template_helpers
from portal.notices.forms import PreviewForm, UploadForm
from portal.notices.operations import AlreadyImported, find_imported, import_notice
from portal.notices.parser import ParsedNotice, parse
from portal.notices.text import NoticeInputError, decode

bp = Blueprint("notices", __name__)


def _input_error(exc: NoticeInputError) -> str:
    return {
        "empty": _("The file is empty."),
        "binary": _("This is not a text file. Save the notice as plain text (.txt) and try again."),
        "encoding": _("The text is neither UTF-8 nor GB18030 encoded."),
    }[exc.code]


def _preview_data(parsed: ParsedNotice, source: str) -> dict:
    return {
        "source": source,
        "categories": [
            {
                "label": c.label,
                "title": c.title,
                "problems": [
                    {
                        "keep": True,
                        "number": p.number,
                        "title": p.title,
                        "deadline": p.deadline,
                        "leader_id": 0,
                        "staff_id": 0,
                        "measures": [{"label": m.label} for m in p.measures],
                    }
                    for p in c.problems
                ],
            }
            for c in parsed.categories
        ],
    }


def _preview(form: PreviewForm, parsed: ParsedNotice, status: int = 200):
    form.set_people(active_users_with("leader"), active_users_with("staff"))
    existing = find_imported(form.source.data or "")
    return render_template("notices/preview.html", form=form, parsed=parsed, existing=existing), status


@bp.route("/inspections/import", methods=["GET", "POST"])
@roles_required("office")
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        upload_file = form.file.data
        raw = upload_file.read() if upload_file and upload_file.filename else form.text.data.encode("utf-8")
        try:
            text = decode(raw)
        except NoticeInputError as exc:
            form.form_errors.append(_input_error(exc))
        else:
            parsed = parse(text)
            return _preview(PreviewForm(formdata=None, data=_preview_data(parsed, text)), parsed)
    return render_template("notices/upload.html", form=form)


def apply_corrections(parsed: ParsedNotice, form: PreviewForm) -> None:
    """Take the office's corrections; the rows line up because parsing is deterministic."""
    for category, row in zip(parsed.categories, form.categories, strict=False):
        category.label, category.title = row.form.label.data or "", row.form.title.data or ""
        kept = []
        for problem, prow in zip(category.problems, row.form.problems, strict=False):
            p = prow.form
            if not p.keep.data:
                continue
            problem.number, problem.title = (p.number.data or "").strip(), p.title.data.strip()
            problem.deadline = p.deadline.data
            problem.leader_id, problem.staff_id = p.leader_id.data or None, p.staff_id.data or None
            for measure, mrow in zip(problem.measures, p.measures, strict=False):
                measure.label = (mrow.form.label.data or "").strip()
            kept.append(problem)
        category.problems = kept


@bp.route("/inspections/import/confirm", methods=["POST"])
@roles_required("office")
def confirm():
    form = PreviewForm()
    source = form.source.data or ""
    parsed = parse(source)
    form.set_people(active_users_with("leader"), active_users_with("staff"))
    if not form.validate_on_submit():
        return _preview(form, parsed, 400)
    apply_corrections(parsed, form)
    try:
        inspection = import_notice(
            Actor.of(current_user),
            parsed,
            source,
            approval_policy=form.approval_policy.data,
            party_secretary=db.session.get(User, form.party_secretary_id.data or 0),
        )
        db.session.commit()
    except AlreadyImported as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("inspections.inspection", inspection_id=exc.inspection.id))
    flash(_("Imported: %(n)d items.", n=len(parsed.problems)), "success")
    return redirect(url_for("inspections.inspection", inspection_id=inspection.id))


# --- the generated notice -------------------------------------------------------------------


def _notice_for(inspection_id: int):
    inspection = load(Inspection, inspection_id)
    return inspection, build_notice(inspection, visible_items(inspection, current_user))


@bp.route("/inspections/<int:inspection_id>/notice")
@roles_required(*INTERNAL)
def notice_html(inspection_id: int):
    inspection, notice = _notice_for(inspection_id)
    return render_template("notices/notice.html", inspection=inspection, notice=notice, **template_helpers())


@bp.route("/inspections/<int:inspection_id>/notice.txt")
@roles_required(*INTERNAL)
def notice_text(inspection_id: int):
    inspection, notice = _notice_for(inspection_id)
    return attachment(
        render_text(notice).encode("utf-8"), "text/plain; charset=utf-8", f"{inspection.title}.txt"
    )


@bp.route("/inspections/<int:inspection_id>/notice.docx")
@roles_required(*INTERNAL)
def notice_docx(inspection_id: int):
    inspection, notice = _notice_for(inspection_id)
    return attachment(
        render_docx(notice),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        f"{inspection.title}.docx",
    )
