"""The auditor's workspace (审计): the log, exports and integrity verification.

Party group leaders read the log too (the register, its filters and each event's details,
an edit's diff on the event's own page; GET only); exports, the checker, verification and an
item's complete history are the auditors'. Auditors write nothing to the documents. Their only
POSTs are the export and the verification, and each writes one thing to the database: the
audit event that records it (who exported or verified what); a full verification that finds
the chain intact also signs its head into a checkpoint file. Both do their long reading in a
read-only transaction after (export) or before (verification) that short write, so that SQLite
writers never wait behind an auditor.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.chain import (
    Actor,
    chain_head,
    check_checkpoint_signature,
    checkpoint_problem,
    latest_checkpoint,
    load_checkpoint_key,
    record_event,
)
from portal.audit.models import AuditEvent
from portal.auditing import log, register
from portal.auditing.checkpoints import checkpoint_verified_head, key_location_warning, no_checkpoint_warning
from portal.auditing.forms import FORMATS, ExportForm, LogFilterForm, VerifyForm
from portal.auditing.integrity import IntegrityReport, Replay, verify_everything, verify_inspection
from portal.auditing.reconcile import Scope
from portal.core.database import read_only
from portal.core.extensions import db
from portal.core.http_cache import private_page
from portal.core.security import roles_required
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore
from portal.inspections.models import Inspection, Measure, RectificationItem
from portal.versions.models import DocumentVersion
from portal.workflow.models import Approval
from workflows import WORKFLOWS

bp = Blueprint("auditing", __name__, url_prefix="/audit")
bp.add_app_template_global(log.payload_label)

VERIFY_SCRIPT = Path(__file__).with_name("verify_export.py")


def _inspections() -> list[Inspection]:
    return db.session.scalars(sa.select(Inspection).order_by(Inspection.id)).all()


def last_verification() -> AuditEvent | None:
    return db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "audit.verify")
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )


#: Who reads the log: auditors, and party group leaders (read only).
LOG_READERS = ("auditor", "leader")


@bp.route("/")
@roles_required(*LOG_READERS)
@private_page
def events():
    if "event" in request.args:
        seq = request.args.get("event", type=int)
        return event_diff(seq) if seq is not None else abort(404)
    auditor = current_user.has_role("auditor")
    inspections = _inspections()
    people = register.people()
    form = LogFilterForm(request.args)
    form.setup_choices(inspections, people)
    log_filter = form.log_filter() if form.validate() else None
    page = entries = None
    if log_filter is not None:
        page = log.page(
            log_filter,
            before=request.args.get("before", type=int),
            after=request.args.get("after", type=int),
        )
        entries = register.entries(page.events, people, current_user, auditor)
    filter_args = log_filter.as_args() if log_filter else {}
    export_form = None
    if auditor:
        export_form = ExportForm(formdata=None, data=filter_args)
        export_form.setup_choices(inspections, people)
    action_codes = log_filter.actions if log_filter else ()
    head_seq, head_hash = chain_head()
    return render_template(
        "auditing/events.html",
        form=form,
        page=page,
        entries=entries,
        auditor=auditor,
        actor_match=form.actor_match() if log_filter else None,
        action_codes=action_codes,
        action_labels=list(dict.fromkeys(register.action_label(c) for c in action_codes)),
        filter_args=filter_args,
        export_form=export_form,
        formats=FORMATS,
        head_seq=head_seq,
        head_hash=head_hash,
        last_check=last_verification(),
        # the newest events' edits as sizes and a link: a hostile edit cannot slow this page
        readable=log.readable_summary,
        action_choices=register.action_choices(),
        people=people,
        system_actors=register.SYSTEM_ACTORS,
        zone=register.zone_label(),
    )


def event_diff(seq: int):
    """One event with its edits as character diffs: the page the log links to (`?event=<seq>`)
    instead of computing diffs inline. Read only; the log's readers, as the log."""
    event = db.session.get(AuditEvent, seq) or abort(404)
    auditor = current_user.has_role("auditor")
    [entry] = register.entries([event], register.people(), current_user, auditor)
    return render_template(
        "auditing/event.html", entry=entry, readable=log.readable, zone=register.zone_label(), auditor=auditor
    )


@bp.route("/export", methods=["POST"])
@roles_required("auditor")
def export():
    form = ExportForm()
    form.setup_choices(_inspections(), register.people())
    if not form.validate():
        flash(
            _(
                "The export was not started: %(errors)s",
                errors="; ".join(str(e) for errors in form.errors.values() for e in errors),
            ),
            "danger",
        )
        return redirect(
            url_for(
                "auditing.events",
                **{k: v for k, v in request.form.items() if k in log.LogFilter.__dataclass_fields__},
            )
        )
    log_filter, fmt = form.log_filter(), form.format.data
    # The export records itself first; it then covers the chain up to and including that event.
    event = record_event(
        Actor.of(current_user),
        "audit.export",
        "audit",
        "export",
        {"format": fmt, "filter": log_filter.as_args()},
    )
    up_to = event.seq  # read before the commit, which expires it
    db.session.commit()
    zone = log.page_zone()  # the CSV's times in the pages' zone, named in its header

    def lines(rows):
        return log.csv_lines(rows, zone) if fmt == "csv" else log.jsonl_lines(rows)

    def generate():
        with read_only():
            try:
                for line in lines(log.export_rows(log_filter, up_to)):
                    yield line.encode("utf-8")
            finally:
                db.session.rollback()

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"audit-log-{stamp}-to-seq-{up_to}.{fmt}"
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return Response(
        stream_with_context(generate()),
        content_type=f"{mimetype}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@bp.route("/verify-script")
@roles_required("auditor")
def verify_script():
    """The standalone checker for exported JSON Lines (standard library only)."""
    return send_file(
        VERIFY_SCRIPT, mimetype="text/x-python", as_attachment=True, download_name="verify_audit_export.py"
    )


# --- verification ---------------------------------------------------------------------------


def _checkpoint_status() -> dict | None:
    found = latest_checkpoint(current_app.config["AUDIT_CHECKPOINT_DIR"])
    if found is None:
        return None
    path, data = found
    status = {
        "file": path.name,
        "seq": data.get("seq"),
        "hash": data.get("hash"),
        "created_at": data.get("created_at"),
        "problem": None,
        "data": data,
    }
    try:
        key = load_checkpoint_key(current_app.config["AUDIT_CHECKPOINT_KEY_FILE"])
    except OSError:
        status["problem"] = _("the checkpoint key is not available on this server")
        return status
    status["key"] = key
    status["problem"] = check_checkpoint_signature(data, key)
    return status


@bp.route("/verify")
@roles_required("auditor")
def verification():
    form = VerifyForm(formdata=None)
    form.setup_choices(_inspections())
    last = last_verification()
    head_seq, head_hash = chain_head()
    checkpoint = _checkpoint_status()
    warnings = [key_location_warning(), None if checkpoint else no_checkpoint_warning()]
    return render_template(
        "auditing/verify.html",
        form=form,
        last=last,
        result=last and json.loads(last.payload),
        checkpoint=checkpoint,
        warnings=[w for w in warnings if w],
        head_seq=head_seq,
        head_hash=head_hash,
        budget=current_app.config["AUDIT_VERIFY_BUDGET_SECONDS"],
    )


@bp.route("/verify", methods=["POST"])
@roles_required("auditor")
def run_verification():
    form = VerifyForm()
    inspections = _inspections()
    form.setup_choices(inspections)
    if not form.validate():
        abort(400)
    store = FileStore(current_app.config["EVIDENCE_DIR"])
    budget = current_app.config["AUDIT_VERIFY_BUDGET_SECONDS"]
    checkpoint = _checkpoint_status()
    with read_only():
        db.session.rollback()
        if form.scope.data == "all":
            report = verify_everything(store, budget=budget)
        else:
            report = verify_inspection(int(form.scope.data), store, budget=budget)
        cp_problem = None
        if checkpoint and not checkpoint["problem"]:
            cp_problem = checkpoint_problem(checkpoint["data"], checkpoint["key"], report.head_seq)
            report.checkpoint_seq = int(checkpoint["seq"])
        elif checkpoint:
            cp_problem = (None, checkpoint["problem"])
        db.session.rollback()
    if cp_problem:
        report.add("checkpoint", None, cp_problem[0], cp_problem[1])
    record_event(Actor.of(current_user), "audit.verify", "audit", "verify", report.summary())
    db.session.commit()
    if form.scope.data == "all" and report.chain_intact:
        _sign(report)
    if not report.complete:
        flash(
            _(
                "The verification ran out of its %(n)d seconds and is incomplete; run "
                "“flask audit verify” on the server for the whole database.",
                n=budget,
            ),
            "warning",
        )
    elif report.ok:
        flash(_("Verification passed."), "success")
    else:
        flash(_("Verification found %(n)d problems.", n=report.problem_count), "danger")
    return redirect(url_for("auditing.verification"))


def _sign(report: IntegrityReport) -> None:
    """A checkpoint of the head the verification found intact (not of the event recording it)."""
    try:
        written = checkpoint_verified_head(report.head_seq, report.head_hash)
    except OSError as exc:
        flash(_("No checkpoint could be written: %(error)s", error=str(exc)), "warning")
        return
    if written is not None:
        flash(_("A signed checkpoint of seq %(seq)d was written.", seq=report.head_seq), "info")


# --- one item's complete history ------------------------------------------------------------


@bp.route("/items/<int:item_id>")
@roles_required("auditor")
def item_history(item_id: int):
    """Everything recorded about one item, checked against what is stored now."""
    item = db.session.get(RectificationItem, item_id) or abort(404)
    measure_ids = [
        str(m) for m in db.session.scalars(sa.select(Measure.id).where(Measure.item_id == item.id))
    ]
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            sa.or_(
                sa.and_(AuditEvent.object_type == "item", AuditEvent.object_id == str(item.id)),
                sa.and_(AuditEvent.object_type == "measure", AuditEvent.object_id.in_(measure_ids)),
            )
        )
        .order_by(AuditEvent.seq)
    ).all()
    report = IntegrityReport(scope=f"item:{item.id}")
    replay = Replay(report)
    for e in events:
        replay.feed(e.seq, e.action, e.object_type, e.object_id, e.payload, e.actor_id)
    stored_states = (
        ("rectification", item.state),
        ("publication", item.publication_state),
        ("lifecycle", item.lifecycle_state),
    )
    replay.compare_states([(item.id, *(stored for _wf, stored in stored_states))], [])
    replay.reconcile(Scope(item=item.id))
    states = []
    for wf_id, stored in stored_states:
        replayed = replay.states.get(("item", str(item.id), wf_id))
        states.append(
            {
                "workflow": WORKFLOWS[wf_id],
                "stored": stored,
                "replayed": replayed[0] if replayed else None,
                "seq": replayed[1] if replayed else None,
            }
        )
    store = FileStore(current_app.config["EVIDENCE_DIR"])
    rows = db.session.scalars(
        sa.select(Evidence).where(Evidence.item_id == item.id).order_by(Evidence.id)
    ).all()
    checks = {
        c.evidence.id: c for c in replay.check_evidence([r for r in rows if r.storage_key is not None], store)
    }
    evidence = [{"row": row, "check": checks.get(row.id)} for row in rows]
    versions = db.session.scalars(
        sa.select(DocumentVersion)
        .where(DocumentVersion.object_type == "item", DocumentVersion.object_id == item.id)
        .order_by(DocumentVersion.number)
    ).all()
    approvals = db.session.scalars(
        sa.select(Approval).where(Approval.item_id == item.id).order_by(Approval.id)
    ).all()
    return render_template(
        "auditing/item_history.html",
        item=item,
        entries=register.entries(reversed(events), register.people(), current_user, auditor=True),
        event_count=len(events),
        states=states,
        evidence=evidence,
        versions=versions,
        approvals=approvals,
        problems=[p for p in report.problems if p.kind in ("state", "row")],
        readable=log.readable,
        zone=register.zone_label(),
    )
