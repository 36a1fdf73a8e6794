"""The audit log as auditors read it (审计日志)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from portal.audit.chain import chain_head
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.security import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50


@bp.route("/")
@roles_required("auditor")
def events():
    before = request.args.get("before", type=int)
    query = sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE + 1)
    if before:
        query = query.where(AuditEvent.seq < before)
    rows = db.session.scalars(query).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    head_seq, head_hash = chain_head()
    return render_template(
        "audit/events.html", events=rows, head_seq=head_seq, head_hash=head_hash,
        next_before=rows[-1].seq if more else None,
        payloads={e.seq: json.dumps(json.loads(e.payload), ensure_ascii=False, indent=1)
                  for e in rows})
