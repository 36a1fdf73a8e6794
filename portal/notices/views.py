"""Notices: the import page (upload, correct the parsed tree, create) and the generated notice."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import Department, User, active_users_with
from portal.audit.chain import Actor
from portal.core.downloads import attachment
from portal.core.extensions import db
from portal.core.forms import CONTROL_MESSAGE, blank, control_characters, length_message, money_problem
from portal.core.handlers import keep_input
from portal.core.loading import load
from portal.core.security import INTERNAL, roles_required
from portal.inspections.models import (
    EMAIL_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    UNIT_MAX_LENGTH,
    Inspection,
)
from portal.inspections.queries import visible_items
from portal.notices import formats
from portal.notices.export import build_notice, iter_text, render_docx, template_helpers
from portal.notices.forms import NOTICE_MAX_BYTES, NOTICE_MAX_CHARS, PreviewForm, UploadForm, notice_too_long
from portal.notices.messages import input_error_text, warning_texts
from portal.notices.operations import AlreadyImported, find_imported
from portal.notices.parser import ParsedNotice, parse
from portal.notices.previews import PreviewUnavailable, import_preview, open_preview, store_preview
from portal.notices.status import StatusHint, status_hints
from portal.notices.text import NoticeInputError, decode

bp = Blueprint("notices", __name__)


def _header(parsed: ParsedNotice) -> dict:
    """The inspection's header as parsed, for the preview's header fields."""
    return {
        "title": parsed.title or _("Imported notice"),
        "inspected_unit": parsed.inspected_unit,
        "inspection_team": parsed.inspection_team,
        "start_date": parsed.inspection_start,
        "end_date": parsed.inspection_end,
        "feedback_date": parsed.feedback_date,
    }


def _preview_data(parsed: ParsedNotice, token: str, hints: dict[int, StatusHint]) -> dict:
    return {
        "token": token,
        **_header(parsed),
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
                        "department_id": 0,
                        "leader_id": 0,
                        "staff_id": 0,
                        "state": hints[id(p)].state,
                        "measures": [{"label": m.label, "text": m.text} for m in p.measures],
                    }
                    for p in c.problems
                ],
            }
            for c in parsed.categories
        ],
    }


def _unposted(parsed: ParsedNotice) -> dict:
    """What a confirmation that leaves out the header or a measure's text (a form from before
    they could be corrected, a script) takes instead: the notice's values, as parsed. A field
    that is posted, even empty, is the office's correction."""
    return {
        **_header(parsed),
        "categories": [
            {"problems": [{"measures": [{"text": m.text} for m in p.measures]} for p in c.problems]}
            for c in parsed.categories
        ],
    }


def _shape(parsed: ParsedNotice) -> list[list[int]]:
    return [[len(p.measures) for p in c.problems] for c in parsed.categories]


def _stated(parsed: ParsedNotice, hints: dict[int, StatusHint]) -> list[list[StatusHint]]:
    """What the notice states of each row's problem, by category and problem (as parsed)."""
    return [[hints[id(p)] for p in c.problems] for c in parsed.categories]


def _render_preview(
    form: PreviewForm,
    parsed: ParsedNotice | None = None,
    *,
    stated: list[list[StatusHint]] | None = None,
    existing: Inspection | None = None,
    lost: str | None = None,
    upload_form: UploadForm | None = None,
    status: int = 200,
):
    """The preview page; with `lost` (the preview could not be used), the office's corrections
    are shown again under an upload form that carries them into the next preview. `stated`:
    what the notice states of each row (`_stated`, taken before any correction)."""
    form.set_people(active_users_with("leader"), active_users_with("staff"), _departments())
    return render_template(
        "notices/preview.html",
        form=form,
        parsed=parsed,
        stated=stated or [],
        warnings=warning_texts(parsed.warnings) if parsed else [],
        existing=existing,
        lost=lost,
        upload_form=upload_form,
    ), status


def _departments() -> list[Department]:
    return db.session.scalars(sa.select(Department).order_by(Department.name)).all()


def _carried_corrections() -> PreviewForm | None:
    """The corrections an upload carries from a preview that could not be used, if any."""
    if request.method != "POST" or not any(key.startswith("categories-") for key in request.form):
        return None
    return PreviewForm(formdata=request.form)


@bp.route("/inspections/import", methods=["GET", "POST"])
@roles_required("office")
def upload():
    form = UploadForm()
    carried = _carried_corrections()
    if form.validate_on_submit():
        upload_file = form.file.data
        # the name as the browser sent it, without control characters (NUL is no text on PostgreSQL)
        filename = "".join(c for c in upload_file.filename if c.isprintable()) if form.has_file() else None
        raw = upload_file.read(NOTICE_MAX_BYTES + 1) if form.has_file() else form.text.data.encode("utf-8")
        try:
            text = _read(raw, filename)
        except NoticeInputError as exc:
            form.form_errors.append(input_error_text(exc))
        else:
            problem = _too_much(text, raw)
            if problem:
                form.form_errors.append(problem)
            else:
                return _preview_upload(text, filename, carried)
    if carried is not None:  # keep the corrections through a failed re-upload
        return _render_preview(carried, lost=_("Upload the notice again."), upload_form=form, status=400)
    return render_template("notices/upload.html", form=form)


def _read(raw: bytes, filename: str | None) -> str:
    """The text of an upload: a .txt, .docx or .pdf file (portal.notices.formats), or pasted."""
    if filename is None or len(raw) > NOTICE_MAX_BYTES:  # pasted, or never opened as a document:
        return decode(raw)  # read as text, a file beyond the limit is refused as too long or binary
    return formats.notice_text(raw, filename)


def _too_much(text: str, raw: bytes) -> str | None:
    """Why the text of a notice is not read: nothing but white space, too long for the parser, or
    with control characters the database cannot store (the text box refuses the last two too)."""
    if blank(text):
        return _("The file is empty.")
    if len(raw) > NOTICE_MAX_BYTES or len(text) > NOTICE_MAX_CHARS:
        return notice_too_long(max(len(text), NOTICE_MAX_CHARS + 1))
    if control_characters(text):
        return str(CONTROL_MESSAGE)
    return None


def _preview_upload(text: str, filename: str | None, carried: PreviewForm | None):
    parsed = parse(text)
    existing = find_imported(text)
    if existing is not None:  # nothing to confirm: no preview is stored
        return _render_preview(PreviewForm(formdata=None), parsed, existing=existing)
    token = store_preview(Actor.of(current_user), current_user, text, filename)
    db.session.commit()
    hints = status_hints(parsed, text)
    stated = _stated(parsed, hints)
    if carried is not None and carried.shape() == _shape(parsed):
        carried.token.data = token
        return _render_preview(carried, parsed, stated=stated)
    if carried is not None:
        flash(_("Your earlier corrections do not fit this text; the preview shows it as parsed."), "warning")
    data = _preview_data(parsed, token, hints)
    return _render_preview(PreviewForm(formdata=None, data=data), parsed, stated=stated)


def apply_corrections(parsed: ParsedNotice, form: PreviewForm) -> tuple[list[str], list[int | None]]:
    """Take the office's corrections; the rows line up because parsing is deterministic.

    Return the state each kept problem's item starts in and its responsible department's id,
    in the order of `parsed.problems`.
    """
    parsed.title = form.title.data.strip()
    parsed.inspected_unit = (form.inspected_unit.data or "").strip()
    parsed.inspection_team = (form.inspection_team.data or "").strip()
    parsed.inspection_start, parsed.inspection_end = form.start_date.data, form.end_date.data
    parsed.feedback_date = form.feedback_date.data
    states, departments = [], []
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
                # a browser sends a text box with CRLF line endings
                measure.text = (mrow.form.text.data or "").replace("\r\n", "\n").strip()
            kept.append(problem)
            states.append(p.state.data)
            departments.append(p.department_id.data or None)
        category.problems = kept
    return states, departments


def import_problems(parsed: ParsedNotice) -> list[str]:
    """What of the parsed notice the documents cannot hold (a text beyond its limit, an amount
    out of range), each said with where it is; the preview's own fields are checked by the form."""
    found = []

    def check(where: str, text: str, limit: int) -> None:
        if len(text or "") > limit:
            found.append(_("%(where)s: %(problem)s", where=where, problem=length_message(limit, len(text))))

    check(_("Title"), parsed.title, TITLE_MAX_LENGTH)
    check(_("Inspected unit"), parsed.inspected_unit, UNIT_MAX_LENGTH)
    check(_("Inspection team"), parsed.inspection_team, UNIT_MAX_LENGTH)
    check(_("Public contact phone"), parsed.contact_phone, PHONE_MAX_LENGTH)
    check(_("Public contact address"), parsed.contact_address, UNIT_MAX_LENGTH)
    check(_("Public contact email"), parsed.contact_email, EMAIL_MAX_LENGTH)
    for category in parsed.categories:
        for problem in category.problems:
            where = f"{problem.number} {problem.title[:30]}".strip()
            check(where, problem.text, TEXT_MAX_LENGTH)
            for measure in problem.measures:
                check(f"{where} {measure.label}".strip(), measure.text, TEXT_MAX_LENGTH)
                check(f"{where} {measure.label[:20]}".strip(), measure.label, LABEL_MAX_LENGTH)
            amount = money_problem(problem.money_to_recover)
            if amount:
                found.append(_("%(where)s: %(problem)s", where=where, problem=amount))
    return found


def _unavailable(form: PreviewForm, exc: PreviewUnavailable):
    """A confirmation whose preview cannot be used: never an error page, never lost input."""
    if exc.reason == "used" and exc.inspection is not None:
        flash(exc.message, "info")
        return redirect(url_for("inspections.inspection", inspection_id=exc.inspection.id))
    return _render_preview(form, lost=exc.message, upload_form=UploadForm(formdata=None), status=400)


@bp.route("/inspections/import/confirm", methods=["POST"])
@roles_required("office")
def confirm():
    try:
        preview = open_preview(request.form.get("token"), current_user)
    except PreviewUnavailable as exc:
        return _unavailable(PreviewForm(), exc)
    parsed = parse(preview.source_text)
    hints = status_hints(parsed, preview.source_text)  # before the corrections drop problems
    stated = _stated(parsed, hints)
    form = PreviewForm(data=_unposted(parsed))
    form.set_people(active_users_with("leader"), active_users_with("staff"), _departments())
    if not form.validate_on_submit():
        return _render_preview(form, parsed, stated=stated, status=400)
    states, departments = apply_corrections(parsed, form)
    problems = import_problems(parsed)
    if problems:  # said before anything is written, where it is
        form.form_errors.extend(problems)
        return _render_preview(form, parsed, stated=stated, status=400)

    def refused(exc):
        """The preview again, with the office's corrections and why the import was refused
        (双审制 with one person, say); the preview stays usable."""
        form.form_errors.append(exc.message)
        return _render_preview(form, parsed, stated=stated, status=exc.status)

    keep_input(refused)
    try:
        inspection = import_preview(
            Actor.of(current_user),
            preview,
            parsed,
            approval_policy=form.approval_policy.data,
            party_secretary=db.session.get(User, form.party_secretary_id.data or 0),
            states=states,
            departments=departments,
            hints=hints,
        )
        db.session.commit()
    except AlreadyImported as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("inspections.inspection", inspection_id=exc.inspection.id))
    except PreviewUnavailable as exc:  # another confirmation with the same token won the race
        db.session.rollback()
        return _unavailable(form, exc)
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
    # streamed, a problem at a time: a large inspection's text is never held whole
    chunks = (chunk.encode("utf-8") for chunk in iter_text(notice))
    return attachment(chunks, "text/plain; charset=utf-8", f"{inspection.title}.txt")


@bp.route("/inspections/<int:inspection_id>/notice.docx")
@roles_required(*INTERNAL)
def notice_docx(inspection_id: int):
    inspection, notice = _notice_for(inspection_id)
    return attachment(
        render_docx(notice),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        f"{inspection.title}.docx",
    )
