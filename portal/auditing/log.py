"""Reading the audit log: filters, keyset pages, exports and readable payloads (审计日志查询).

Every filter maps onto an index that ends in `seq` (actor, action, object type, object,
inspection), so a page is an index range read backwards from a seq, whatever the table size.
A date range is turned into a seq range first: events are stamped while their transaction
holds the chain's lock, so `at` grows with `seq`, and one probe of the `at` index at each end
of the range finds the seqs. Two or more filter columns together are searched a stretch of
seqs at a time within a time budget (`_scanned_page`), so a combination that rarely matches
cannot make a page walk the whole table. Exports stream rows in seq order, a batch at a time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.audit.chain import format_time
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.core.titles import state_title
from portal.versions.display import FIELD_LABELS
from portal.versions.operations import char_runs
from workflows import WORKFLOWS

PAGE_SIZE = 50

#: The object types events are recorded about (for the filter's choices).
OBJECT_TYPES = (
    "inspection",
    "category",
    "item",
    "measure",
    "feedback",
    "user",
    "department",
    "login",
    "audit",
    "notice_preview",
    "notification",
    "extension",
)


def known_actions() -> list[str]:
    """Every action the portal records (for the filter's suggestions; a test keeps it whole)."""

    actions = [
        "auth.login",
        "auth.login_failed",
        "auth.login_refused",
        "auth.logout",
        "auth.mfa_challenge",
        "auth.mfa_failed",
        "auth.reauth",
        "auth.reauth_failed",
        "auth.reauth_refused",
        "user.mfa_enrolment_started",
        "user.mfa_enrol",
        "user.mfa_recovery_codes",
        "user.mfa_disable",
        "user.mfa_reset",
        "user.create",
        "user.update",
        "user.set_roles",
        "user.set_password",
        "user.deactivate",
        "user.reactivate",
        "department.create",
        "measure.done",
        "measure.undone",
        "measure.long_term",
        "measure.not_applicable",
        "evidence.add",
        "evidence.withdraw",
        "sharing.grant",
        "sharing.revoke",
        "sharing.block_inheritance",
        "notice.preview",
        "notice.import",
        "ledger.import",
        "feedback.submit",
        "feedback.edit",
        "fix_check.answer",
        "notification.send",
        "notification.read",
        "notification.read_all",
        "user.email_notifications",
        "item.chase",
        "extension.request",
        "audit.export",
        "audit.verify",
    ]
    for kind in ("inspection", "category", "item", "measure"):
        actions += [f"{kind}.create", f"{kind}.update", f"{kind}.revert"]
    for wf_id, workflow in WORKFLOWS.items():
        actions += [f"{transition_prefix(wf_id)}.{t.id}" for t in workflow.transitions]
    return sorted(set(actions))


def transition_prefix(workflow_id: str) -> str:
    """How the audit actions of a workflow's transitions begin (WorkflowHooks.action_prefix):
    feedback's moderation and extension requests (延期申请) have their own, every workflow of the
    documents records `workflow.`."""
    return workflow_id if workflow_id in ("moderation", "extension") else "workflow"


#: The columns of an export, in order; `payload` is the canonical JSON string that was hashed.
EXPORT_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "inspection_id",
    "payload",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class LogFilter:
    """The filter as typed (`actor`: a login or a person's name; `action`: a code or a label),
    with what those stand for once resolved (see register.match_actor and match_action)."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    inspection: int | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    #: the `actor` values (logins) and action codes searched for; empty: `actor` / `action` as typed
    actors: tuple[str, ...] = field(default=(), compare=False)
    actions: tuple[str, ...] = field(default=(), compare=False)

    def is_empty(self) -> bool:
        return self == LogFilter()

    def as_args(self) -> dict[str, str]:
        """The filter as typed, as query arguments (for links, forms and the export's record)."""
        args = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.compare and value not in (None, ""):
                args[f.name] = value.isoformat() if isinstance(value, date) else str(value)
        return args

    def _actors(self) -> tuple[str, ...]:
        return self.actors or ((self.actor,) if self.actor else ())

    def _actions(self) -> tuple[str, ...]:
        return self.actions or ((self.action,) if self.action else ())

    def needs_scan(self) -> bool:
        """Whether no single index serves the filter (two or more of its columns are set).

        Each column has an index ending in `seq`, so one column (or one object) is a range
        read at any selectivity. Two columns whose events rarely meet would make the database
        walk one index far for a few matches: such pages search a bounded stretch of seqs.
        A person's name that matches several people, or a label that several actions share,
        is several values of one column: searched the same way.
        """
        columns = [
            len(self._actors()),
            len(self._actions()),
            bool(self.object_type),
            self.inspection is not None,
        ]
        return sum(columns) >= 2

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """WHERE clauses, with the date range also bounding `seq` (see the module docstring)."""
        clauses: list[sa.ColumnElement[bool]] = []
        for column, values in ((AuditEvent.actor, self._actors()), (AuditEvent.action, self._actions())):
            if len(values) == 1:
                clauses.append(column == values[0])
            elif values:
                clauses.append(column.in_(values))
        if self.object_type:
            clauses.append(AuditEvent.object_type == self.object_type)
        if self.object_id:
            clauses.append(AuditEvent.object_id == self.object_id)
        if self.inspection is not None:
            clauses.append(AuditEvent.inspection_id == self.inspection)
        if self.since is not None:
            start = _utc(self.since)
            first = db.session.scalar(
                sa.select(AuditEvent.seq).where(AuditEvent.at >= start).order_by(AuditEvent.at).limit(1)
            )
            clauses += [AuditEvent.seq >= (first if first is not None else _NO_SEQ), AuditEvent.at >= start]
        if self.until is not None:
            end = _utc(self.until + timedelta(days=1))
            last = db.session.scalar(
                sa.select(AuditEvent.seq).where(AuditEvent.at < end).order_by(AuditEvent.at.desc()).limit(1)
            )
            clauses += [AuditEvent.seq <= (last if last is not None else 0), AuditEvent.at < end]
        return clauses


def _utc(day: date) -> datetime:
    """Midnight of `day` in the portal's time zone, as the naive UTC time events are stored in."""
    zone = page_zone()
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


_NO_SEQ = 2**62  # a lower bound no event reaches: the range is empty


@dataclass
class Page:
    events: list[AuditEvent]
    older: int | None  # `before` for the next (older) page
    newer: int | None  # `after` for the previous (newer) page
    #: for combined filters: the seqs searched (low, high) when the search stopped short
    searched: tuple[int, int] | None = None


#: Combined filters search this many seqs per query, for at most SCAN_BUDGET seconds a page.
SCAN_CHUNK = 25_000
SCAN_BUDGET = 0.04


def page(
    log_filter: LogFilter, before: int | None = None, after: int | None = None, size: int | None = None
) -> Page:
    """One page of matching events, newest first, keyed by seq (never OFFSET)."""
    size = size or PAGE_SIZE
    conditions = log_filter.conditions()
    if log_filter.needs_scan():
        return _scanned_page(conditions, before, after, size)
    query = sa.select(AuditEvent).where(*conditions).limit(size + 1)
    if after is not None:
        rows = db.session.scalars(query.where(AuditEvent.seq > after).order_by(AuditEvent.seq.asc())).all()
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        older = rows[-1].seq if rows and _any(conditions, AuditEvent.seq < rows[-1].seq) else None
        return Page(rows, older, rows[0].seq if rows and more_newer else None)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = db.session.scalars(query.order_by(AuditEvent.seq.desc())).all()
    more_older = len(rows) > size
    rows = rows[:size]
    newer = None
    if before is not None and rows and _any(conditions, AuditEvent.seq > rows[0].seq):
        newer = rows[0].seq
    return Page(rows, rows[-1].seq if rows and more_older else None, newer)


def _scanned_page(conditions, before: int | None, after: int | None, size: int) -> Page:
    """Search seq stretches of SCAN_CHUNK, newest first (or oldest first after `after`), until
    the page is full, the log ends or the time budget is spent; say where the search stopped."""
    head = db.session.scalar(sa.select(sa.func.max(AuditEvent.seq))) or 0
    deadline = monotonic() + SCAN_BUDGET
    found: list[AuditEvent] = []
    upward = after is not None and before is None
    # [low, high) is the stretch still to search
    low, high = (after + 1, head + 1) if upward else (1, min(before or head + 1, head + 1))
    cursor = low if upward else high
    while len(found) <= size and low < high:
        if upward:
            lo, hi = cursor, min(cursor + SCAN_CHUNK, high)
            order = AuditEvent.seq.asc()
        else:
            lo, hi = max(cursor - SCAN_CHUNK, low), cursor
            order = AuditEvent.seq.desc()
        found += db.session.scalars(
            sa.select(AuditEvent)
            .where(*conditions, AuditEvent.seq >= lo, AuditEvent.seq < hi)
            .order_by(order)
            .limit(size + 1 - len(found))
        ).all()
        cursor = hi if upward else lo
        if (cursor >= high if upward else cursor <= low) or monotonic() > deadline:
            break
    exhausted = cursor >= high if upward else cursor <= low
    full = len(found) > size
    rows = found[:size]
    if upward:
        rows.reverse()
        newer = rows[0].seq if full else (None if exhausted else cursor - 1)
        older = rows[-1].seq if rows else after + 1
        searched = None if full or exhausted else (after + 1, cursor - 1)
        return Page(rows, older, newer, searched)
    older = rows[-1].seq if full else (None if exhausted else cursor)
    newer = (rows[0].seq if rows else high - 1) if before is not None else None
    searched = None if full or exhausted else (cursor, high - 1)
    return Page(rows, older, newer, searched)


def _any(conditions, bound) -> bool:
    """Whether some matching event lies beyond `bound` (one index probe)."""
    return db.session.scalar(sa.select(AuditEvent.seq).where(*conditions, bound).limit(1)) is not None


# --- exports --------------------------------------------------------------------------------


def export_rows(log_filter: LogFilter, up_to: int, batch: int = 2000) -> Iterator[tuple]:
    """Stream matching rows in seq order up to seq `up_to`, a batch at a time."""
    columns = [getattr(AuditEvent, name) for name in EXPORT_COLUMNS]
    conditions = [*log_filter.conditions(), AuditEvent.seq <= up_to]
    query = sa.select(*columns).where(*conditions).order_by(AuditEvent.seq)
    yield from db.session.connection().execute(query.execution_options(stream_results=True, yield_per=batch))


def _export_record(row: tuple) -> dict[str, Any]:
    record = dict(zip(EXPORT_COLUMNS, row, strict=True))
    record["at"] = format_time(record["at"]) if not isinstance(record["at"], str) else record["at"]
    return record


def jsonl_lines(rows) -> Iterator[str]:
    """One JSON object per line; `payload` stays the exact string that was hashed."""
    for row in rows:
        yield json.dumps(_export_record(row), ensure_ascii=False, separators=(",", ":")) + "\n"


def page_zone() -> ZoneInfo:
    """The time zone the pages show times in (UTC outside a request)."""
    return ZoneInfo(str(get_timezone())) if has_request_context() else ZoneInfo("UTC")


def csv_columns(zone: ZoneInfo) -> list[str]:
    """The CSV's header: the export's columns, `at` named for its zone (UTC, exactly as hashed),
    followed by the same time in the pages' zone, named in its header."""
    columns = []
    for name in EXPORT_COLUMNS:
        columns += [f"{name}_utc", f"time ({zone.key})"] if name == "at" else [name]
    return columns


#: how a cell a spreadsheet would read as a formula begins (OWASP: CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell no spreadsheet runs: text that begins like a formula gets a leading `'`
    (a login name typed as `=cmd|' /C calc'!A0` is shown, not run). JSON Lines, the format
    that verifies, keeps every value exactly."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows, zone: ZoneInfo | None = None) -> Iterator[str]:
    """A header, then one row per event; UTF-8 with a BOM so that spreadsheets read Chinese;
    every cell neutralised (`csv_cell`)."""
    zone = zone or page_zone()
    at = EXPORT_COLUMNS.index("at")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_columns(zone))
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        record = _export_record(row)
        values = []
        for name in EXPORT_COLUMNS:
            value = record[name]
            values.append("" if value is None else value)
            if name == "at":
                values.append(_local(row[at], zone))
        writer.writerow([csv_cell(v) for v in values])
        yield buffer.getvalue()


def _local(at: datetime | str, zone: ZoneInfo) -> str:
    """A stored naive-UTC time in `zone`, to the second (as the pages show it)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at.removesuffix("Z"))
    return at.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


# --- readable payloads ----------------------------------------------------------------------


@dataclass
class Change:
    field: str
    runs: list[tuple[str, str]]


#: Keys of a transition's payload that repeat its action or serve the machinery: shown with
#: the raw record, not among the values people read.
TRANSITION_MACHINERY = frozenset({"automatic", "history_id", "transition", "workflow", "version"})


#: The words for a payload's keys that are not a document's fields (those are named as the
#: edit forms name them, portal.versions.display.FIELD_LABELS); the key itself is shown too.
PAYLOAD_LABELS = {
    "active": _l("Active"),
    "comment": _l("Comment"),
    "contact_given": _l("Contact given"),
    "deadline": _l("Deadline"),
    "department": _l("Department"),
    "display_name": _l("Display name"),
    "email": _l("Email"),
    "evidence_id": _l("Evidence"),
    "evidence_ids": _l("Evidence"),
    "filename": _l("File"),
    "inspection_id": _l("Inspection"),
    "item_id": _l("Item"),
    "items": _l("Items"),
    "kind": _l("Kind"),
    "login": _l("Login name"),
    "mailed_user_ids": _l("Mailed to"),
    "name": _l("Name"),
    "note": _l("Note"),
    "notification_ids": _l("Notifications"),
    "params": _l("Parameters"),
    "public": _l("Public"),
    "publication_state": _l("Publication"),
    "reason": _l("Reason"),
    "remote_addr": _l("Sign-in address"),
    "reverted_from": _l("Reverted from version"),
    "roles": _l("Roles"),
    "size": _l("Size (bytes)"),
    "state": _l("State"),
    "states": _l("States"),
    "status": _l("Status"),
    "text": _l("Text"),  # (a measure's, a feedback's, a chase's: the words of each)
    "transition": _l("Transition"),
    "user_ids": _l("Users"),
    "version": _l("Version"),
    "warnings": _l("Warnings"),
    "workflow": _l("Workflow"),
}


def payload_label(key: str) -> str | None:
    """The words for a payload key or changed field, or None where the key is all there is."""
    label = PAYLOAD_LABELS.get(key) or FIELD_LABELS.get(key)
    return str(label) if label is not None else None


#: the longest value the log page shows whole, as `before → after`, in place of a diff
SHORT_VALUE = 80


def readable_summary(event: AuditEvent) -> dict[str, Any]:
    """As `readable`, but computing no diff (for the log page, whose newest events anyone can
    fill with long edits): each edited text as `before → after` when both are short, else as
    its sizes; `lazy` says that the event's own page (`/audit/?event=<seq>`) has the diff."""
    return readable(event, diffs=False)


def _runs(before: str, after: str, diffs: bool) -> list[tuple[str, str]]:
    if diffs:
        return char_runs(before, after)
    if len(before) <= SHORT_VALUE and len(after) <= SHORT_VALUE:
        runs = [("delete", before), ("equal", " → "), ("insert", after)]
        return [(tag, text) for tag, text in runs if text]
    return [("equal", _("changed: %(before)d → %(after)d characters", before=len(before), after=len(after)))]


def readable(event: AuditEvent, diffs: bool = True) -> dict[str, Any]:
    """What the event page shows: changes as character diffs, other keys as values (a
    transition's machinery apart, as `technical`). `diffs=False`: see `readable_summary`."""
    try:
        payload = json.loads(event.payload)
    except ValueError:
        return {"changes": [], "values": [("payload", event.payload)], "technical": [], "lazy": False}
    if not isinstance(payload, dict):
        return {"changes": [], "values": [("payload", payload)], "technical": [], "lazy": False}
    changes: list[Change] = []
    values: list[tuple[str, Any]] = []
    technical: list[tuple[str, Any]] = []
    machinery = TRANSITION_MACHINERY if "transition" in payload and "from" in payload else frozenset()
    if isinstance(payload.get("changes"), dict):
        for field, change in payload["changes"].items():
            if isinstance(change, dict):
                before, after = _text(change.get("before")), _text(change.get("after"))
                changes.append(Change(field, _runs(before, after, diffs)))
    elif "before" in payload and "after" in payload and not isinstance(payload["before"], list):
        changes.append(Change("", _runs(_text(payload["before"]), _text(payload["after"]), diffs)))
    lazy = not diffs and bool(changes)
    if "from" in payload and "to" in payload:
        before, after = _text(payload["from"]), _text(payload["to"])
        if payload.get("workflow") in WORKFLOWS:  # the states' names, as the workflow page has them
            before, after = (_state(payload["workflow"], s) for s in (before, after))
        if before == after:  # a step that stays (an approval, a reply): no "A → A"
            changes.append(Change("state", [("equal", _("%(state)s (unchanged)", state=before))]))
        else:
            changes.append(Change("state", [("delete", before), ("equal", " → "), ("insert", after)]))
    skip = {"changes"} if changes and "changes" in payload else set()
    if any(c.field == "" for c in changes):
        skip |= {"before", "after"}
    if any(c.field == "state" for c in changes):
        skip |= {"from", "to"}
    for key in sorted(payload):
        if key in skip or payload[key] in (None, "", [], {}):
            continue
        value = payload[key]
        if not isinstance(value, str):
            compact = json.dumps(value, ensure_ascii=False, sort_keys=True)
            value = (
                compact
                if len(compact) <= 80
                else json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1)
            )
        (technical if key in machinery else values).append((key, value))
    return {"changes": changes, "values": values, "technical": technical, "lazy": lazy}


def _state(workflow_id: str, state_id: str) -> str:
    title = state_title(workflow_id, state_id)
    return state_id if title == "?" else title


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
