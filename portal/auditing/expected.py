"""What the history says the stored rows must be: every event's payload folded into rows.

The state replay (`integrity.Replay`) follows each workflow state; `ExpectedRows` goes on to
fold every payload into the rows it implies (compared with the stored ones by
`portal.auditing.reconcile`):

* documents (inspections, categories, items, measures): every versioned field as created and
  edited, an item's or category's inspection, a measure's item, status and reason, blocked
  inheritance; and each of their versions (number, changed fields, note, author, revert);
* approvals, per item: who approved, and whether a return or reopen has cleared them since;
* the workflow history, entry by entry, as each step's event records it;
* local-role grants, per object: role, principal, who granted it;
* users (login, name, e-mail, department, active, global roles, e-mail preference) and
  departments;
* feedback (text, the submitter's words behind an edit, kind, item, reply, whether contact
  details were given), evidence rows, extension requests, "is it really fixed?" answers,
  chase notes and supervision warnings.

Each value keeps the seq of the event that last set it. A value that no event recorded (an old
event, from before its payload carried that key) is simply absent: unknown, never compared.
Long texts are kept as their length and SHA-256, so that the memory is a few values per row,
whatever the number of events.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Department, User
from portal.deadlines.models import ExtensionRequest
from portal.evidence.models import Evidence
from portal.feedback.models import Feedback, FixCheck
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.notifications.models import ItemChase
from portal.supervision.models import SupervisionWarning
from portal.versions.operations import VERSIONED_FIELDS

#: texts longer than this are kept (and compared) as their length and SHA-256
LONG_TEXT = 120
_CENT = Decimal("0.01")
ABSENT = object()  #: a key that a stored version's data does not have
UNKNOWN = object()  #: a value that no event recorded

DOCUMENTS = {"inspection": Inspection, "category": Category, "item": RectificationItem, "measure": Measure}
#: what a document row holds beyond its versioned fields, that the history also tells
_DOCUMENT_EXTRAS = {
    "inspection": (),
    "category": ("inspection_id", "local_roles_blocked"),
    "item": ("inspection_id", "local_roles_blocked"),
    "measure": ("item_id", "position", "status", "status_reason"),
}
#: the status each measure action sets, for events from before their payload named it
_MEASURE_STATUS = {
    "measure.done": "done",
    "measure.undone": "open",
    "measure.long_term": "long_term",
    "measure.not_applicable": "not_applicable",
}
#: label -> (model, compared columns; a column the loader derives is marked by its kind)
_ROWS: dict[str, tuple[type, dict[str, str | None]]] = {
    "user": (
        User,
        {
            "login": None,
            "display_name": None,
            "email": None,
            "department": "plain",
            "active": None,
            "email_notifications": None,
            "roles": "plain",
        },
    ),
    "department": (Department, {"name": None}),
    "feedback": (
        Feedback,
        {
            "inspection_id": None,
            "item_id": None,
            "kind": None,
            "text": None,
            "original_text": None,
            "reply": None,
            "contact_given": "bool",
        },
    ),
    "evidence": (
        Evidence,
        {
            "item_id": None,
            "note": None,
            "filename": None,
            "size": None,
            "public": None,
            "added_by_id": None,
            "withdrawn": "bool",
            "withdrawn_by_id": None,
        },
    ),
    "extension": (
        ExtensionRequest,
        {
            "item_id": None,
            "requested_by_id": None,
            "reason": None,
            "progress_note": None,
            "old_deadline": None,
            "proposed_deadline": None,
        },
    ),
    "fix_check": (FixCheck, {"item_id": None, "answer": None, "comment": None}),
    "chase": (ItemChase, {"item_id": None, "actor_id": None, "text": None}),
    "warning": (SupervisionWarning, {"item_id": None, "level": None, "deadline": None, "pass_day": None}),
}
#: a step's payload key -> the workflow history column it records
_HISTORY_COLUMNS = {
    "workflow": "workflow",
    "from": "from_state",
    "to": "to_state",
    "comment": "comment",
    "evidence_ids": "evidence_ids",
}
ROW_MODELS = {label: model for label, (model, _columns) in _ROWS.items()}


# --- values -----------------------------------------------------------------------------------


def _kind_of(model: type, column: str) -> str:
    column_type = model.__table__.c[column].type
    if isinstance(column_type, sa.Numeric) and not isinstance(column_type, sa.Float):
        return "money"
    if isinstance(column_type, sa.Date):
        return "date"
    if isinstance(column_type, sa.Boolean):
        return "bool"
    return "plain"


def normal(kind: str, value: Any) -> Any:
    """The comparable form of a value, stored or recorded: amounts to the cent, days as ISO
    text, lists as tuples, long texts as (length, SHA-256)."""
    if value is None or value is ABSENT:
        return value
    if kind == "money":
        try:
            return str(Decimal(str(value)).quantize(_CENT, ROUND_HALF_UP))
        except (InvalidOperation, ValueError):
            return str(value)
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == "bool":
        return bool(value)
    if isinstance(value, list):
        return tuple(normal("plain", v) for v in value)
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return ("sha256", len(value), hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest())
    return value


def shown(value: Any) -> str:
    """A compared value as a problem names it."""
    if value is ABSENT:
        return _("(absent)")
    if isinstance(value, tuple) and len(value) == 3 and value[0] == "sha256":
        return _("%(n)d characters (SHA-256 %(hash)s…)", n=value[1], hash=value[2][:12])
    text = json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def _short(value: Any) -> bool:
    return type(value) is str and len(value) <= LONG_TEXT


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Row:
    """The replayed values of one stored row: column -> (comparable value, seq that set it)."""

    __slots__ = ("seq", "values", "versions")

    def __init__(self, seq: int):
        self.seq = seq  # the creation event
        self.values: dict[str, tuple[Any, int]] = {}
        #: a document's versions: (number, ((field, value), …) changed, note, actor id,
        #: reverted from, seq), or None once an event left a version unnumbered (unknown from
        #: then on): a few small tuples each
        self.versions: list[tuple] | None = None


# --- folding the events ------------------------------------------------------------------------


class ExpectedRows:
    """Fold events into the rows they imply."""

    def __init__(self):
        self.kinds: dict[str, dict[str, str]] = {}
        for label, model in DOCUMENTS.items():
            columns = (*VERSIONED_FIELDS[model], *_DOCUMENT_EXTRAS[label])
            self.kinds[label] = {c: _kind_of(model, c) for c in columns}
        for label, (model, columns) in _ROWS.items():
            self.kinds[label] = {c: derived or _kind_of(model, c) for c, derived in columns.items()}
        self.rows: dict[str, dict[int, Row]] = {label: {} for label in self.kinds}
        #: item id -> [approver id, still open, seq approved, seq cleared]
        self.approvals: dict[int, list[list]] = defaultdict(list)
        #: history id -> (object type, object id, column values, seq)
        self.history: dict[int, tuple[str, int, dict[str, Any], int]] = {}
        #: (object type, object id) -> steps whose event named no history entry (old events)
        self.unnumbered_history: dict[tuple[str, int], int] = defaultdict(int)
        #: (object type, object id) -> [(role, user id, department id), granted by, seq]
        self.grants: dict[tuple[str, int], list[list]] = defaultdict(list)
        self.handlers: dict[str, Callable] = {
            "sharing.grant": self._granted,
            "sharing.revoke": self._revoked,
            "sharing.block_inheritance": self._blocked,
            "user.create": self._user_created,
            "user.update": self._user_updated,
            "user.set_roles": self._roles_set,
            "user.deactivate": partial(self._user_active, False),
            "user.reactivate": partial(self._user_active, True),
            "user.email_notifications": self._email_preference,
            "department.create": self._department_created,
            "feedback.submit": self._feedback_submitted,
            "feedback.edit": self._feedback_edited,
            "evidence.add": self._evidence_added,
            "evidence.withdraw": self._evidence_withdrawn,
            "extension.request": self._extension_requested,
            "fix_check.answer": partial(self._simple, "fix_check", "fix_check_id", ("answer", "comment")),
            "item.chase": partial(self._simple, "chase", "chase_id", ("text",), actor="actor_id"),
            "supervision.warning": partial(
                self._simple, "warning", "warning_id", ("level", "deadline", "pass_day")
            ),
        }
        for label in DOCUMENTS:
            self.handlers[f"{label}.create"] = partial(self._document_created, label)
            self.handlers[f"{label}.update"] = partial(self._document_changed, label)
            self.handlers[f"{label}.revert"] = partial(self._document_changed, label)
        for action, status in _MEASURE_STATUS.items():
            self.handlers[action] = partial(self._measure_status, status)

    def _set(self, label: str, row: Row, column: str, value: Any, seq: int) -> None:
        kind = self.kinds[label][column]
        if kind == "plain" and (value is None or type(value) is int or _short(value)):
            row.values[column] = (value, seq)  # as it is (most values: this runs for every event)
        else:
            row.values[column] = (normal(kind, value), seq)

    def _new(self, label: str, oid: int, seq: int) -> Row:
        self.rows[label][oid] = row = Row(seq)
        return row

    def feed(self, seq: int, actor_id: int | None, action: str, otype: str, oid: str, data: dict) -> None:
        handler = self.handlers.get(action)
        if handler is not None:
            handler(seq, actor_id, otype, _int(oid), data)

    # documents

    def _document_created(self, label, seq, actor_id, otype, oid, data) -> None:
        if otype != label or oid is None:
            return
        row = self._new(label, oid, seq)
        snapshot = []
        for field in VERSIONED_FIELDS[DOCUMENTS[label]]:
            if field in data:
                self._set(label, row, field, data[field], seq)
                snapshot.append((field, row.values[field][0]))
        if label in ("category", "item") and "inspection_id" in data:
            self._set(label, row, "inspection_id", data["inspection_id"], seq)
        if label == "measure":
            for column in ("item_id", "position"):  # a position only since events record it
                if column in data:
                    self._set(label, row, column, data[column], seq)
            self._set(label, row, "status", "open", seq)
            self._set(label, row, "status_reason", "", seq)
        elif label != "inspection":
            self._set(label, row, "local_roles_blocked", False, seq)
        row.versions = [(1, tuple(snapshot), "", actor_id, None, seq)]

    def _document_changed(self, label, seq, actor_id, otype, oid, data) -> None:
        row = self.rows[label].get(oid) if otype == label else None
        changes = data.get("changes")
        if row is None or not isinstance(changes, dict):
            return
        changed = []
        kinds, values = self.kinds[label], row.values
        for field, change in changes.items():
            if field in kinds and isinstance(change, dict) and "after" in change:
                # `_set`, written out: this runs for most events
                value, kind = change["after"], kinds[field]
                if not (kind == "plain" and (value is None or type(value) is int or _short(value))):
                    value = normal(kind, value)
                values[field] = (value, seq)
                changed.append((field, value))
        number = data.get("version")
        if row.versions is not None and isinstance(number, int):
            note = data.get("note", UNKNOWN)
            if not (note is UNKNOWN or note is None or type(note) is int or _short(note)):
                note = normal("plain", note)  # what it does to the others: nothing
            reverted = data.get("reverted_from", UNKNOWN)
            row.versions.append((number, tuple(changed), note, actor_id, reverted, seq))
        else:
            row.versions = None

    def _measure_status(self, action_status, seq, actor_id, otype, oid, data) -> None:
        row = self.rows["measure"].get(oid) if otype == "measure" else None
        if row is None:
            return
        # events from before measures had a status (a done flag only) say it by their action
        status = data.get("status", action_status)
        self._set("measure", row, "status", status, seq)
        if "reason" in data:
            self._set("measure", row, "status_reason", data["reason"], seq)
        elif status in ("open", "done"):
            self._set("measure", row, "status_reason", "", seq)
        else:
            row.values.pop("status_reason", None)

    def _blocked(self, seq, actor_id, otype, oid, data) -> None:
        row = self.rows[otype].get(oid) if otype in ("category", "item") else None
        if row is not None and "after" in data:
            self._set(otype, row, "local_roles_blocked", bool(data["after"]), seq)

    def _granted(self, seq, actor_id, otype, oid, data) -> None:
        if oid is not None:
            principal = (data.get("role"), data.get("user_id"), data.get("department_id"))
            self.grants[(otype, oid)].append([principal, actor_id, seq])

    def _revoked(self, seq, actor_id, otype, oid, data) -> None:
        principal = (data.get("role"), data.get("user_id"), data.get("department_id"))
        grants = self.grants.get((otype, oid), [])
        for grant in grants:
            if grant[0] == principal:
                grants.remove(grant)
                break

    # workflow steps (called by the state replay, which has checked the transition)

    def step(self, seq, actor_id, otype, oid, transition, data) -> None:
        oid = _int(oid)
        if oid is None:
            return
        history_id = data.get("history_id")
        if isinstance(history_id, int):
            values = {"action": transition.id, "actor_id": actor_id}
            for key, column in _HISTORY_COLUMNS.items():
                if key in data:
                    values[column] = normal("plain", data[key])
            self.history[history_id] = (otype, oid, values, seq)
        else:
            self.unnumbered_history[(otype, oid)] += 1
        effects = transition.effects
        if otype == "item" and "record_approval" in effects:
            self.approvals[oid].append([actor_id, True, seq, None])
        if otype == "item" and "clear_approvals" in effects:
            for approval in self.approvals.get(oid, ()):
                if approval[1]:
                    approval[1], approval[3] = False, seq
        if otype == "feedback" and "store_reply" in effects and "comment" in data:
            row = self.rows["feedback"].get(oid)
            if row is not None:
                self._set("feedback", row, "reply", data["comment"], seq)

    # accounts

    def _user_created(self, seq, actor_id, otype, oid, data) -> None:
        if otype != "user" or oid is None:
            return
        row = self._new("user", oid, seq)
        for column in ("login", "display_name", "email", "department"):
            if column in data:
                self._set("user", row, column, data[column], seq)
        if isinstance(data.get("roles"), list):
            self._set("user", row, "roles", sorted(data["roles"]), seq)
        self._set("user", row, "active", data.get("active", True), seq)
        self._set("user", row, "email_notifications", True, seq)

    def _user_updated(self, seq, actor_id, otype, oid, data) -> None:
        row = self.rows["user"].get(oid) if otype == "user" else None
        changes = data.get("changes")
        if row is None or not isinstance(changes, dict):
            return
        for column in ("display_name", "email", "department"):
            if isinstance(changes.get(column), dict) and "after" in changes[column]:
                self._set("user", row, column, changes[column]["after"], seq)

    def _roles_set(self, seq, actor_id, otype, oid, data) -> None:
        row = self.rows["user"].get(oid) if otype == "user" else None
        if row is not None and isinstance(data.get("after"), list):
            self._set("user", row, "roles", sorted(data["after"]), seq)

    def _user_active(self, active: bool, seq, actor_id, otype, oid, data) -> None:
        row = self.rows["user"].get(oid) if otype == "user" else None
        if row is not None:
            self._set("user", row, "active", active, seq)

    def _email_preference(self, seq, actor_id, otype, oid, data) -> None:
        row = self.rows["user"].get(oid) if otype == "user" else None
        if row is not None and "after" in data:
            self._set("user", row, "email_notifications", data["after"], seq)

    def _department_created(self, seq, actor_id, otype, oid, data) -> None:
        if otype == "department" and oid is not None:
            row = self._new("department", oid, seq)
            if "name" in data:
                self._set("department", row, "name", data["name"], seq)

    # feedback, evidence, requests and the rest

    def _feedback_submitted(self, seq, actor_id, otype, oid, data) -> None:
        if otype != "feedback" or oid is None:
            return
        row = self._new("feedback", oid, seq)
        for column in ("inspection_id", "item_id", "kind", "text"):
            if column in data:
                self._set("feedback", row, column, data[column], seq)
        if "contact_given" in data:
            self._set("feedback", row, "contact_given", data["contact_given"], seq)
        self._set("feedback", row, "original_text", None, seq)
        self._set("feedback", row, "reply", "", seq)

    def _feedback_edited(self, seq, actor_id, otype, oid, data) -> None:
        row = self.rows["feedback"].get(oid) if otype == "feedback" else None
        if row is None or "after" not in data:
            return
        original = row.values.get("original_text")
        if original is not None and original[0] is None and "before" in data:
            self._set("feedback", row, "original_text", data["before"], seq)
        self._set("feedback", row, "text", data["after"], seq)

    def _evidence_added(self, seq, actor_id, otype, oid, data) -> None:
        evidence_id = data.get("evidence_id")
        if otype != "item" or oid is None or not isinstance(evidence_id, int):
            return
        row = self._new("evidence", evidence_id, seq)
        self._set("evidence", row, "item_id", oid, seq)
        is_file = "sha256" in data
        for column in ("note", "public", "filename", "size"):
            if column in data:
                self._set("evidence", row, column, data[column], seq)
            elif column in ("filename", "size") and not is_file:
                self._set("evidence", row, column, None, seq)
        self._set("evidence", row, "added_by_id", actor_id, seq)
        self._set("evidence", row, "withdrawn", False, seq)
        self._set("evidence", row, "withdrawn_by_id", None, seq)

    def _evidence_withdrawn(self, seq, actor_id, otype, oid, data) -> None:
        row = self.rows["evidence"].get(data.get("evidence_id")) if otype == "item" else None
        if row is not None:
            self._set("evidence", row, "withdrawn", True, seq)
            self._set("evidence", row, "withdrawn_by_id", actor_id, seq)

    def _extension_requested(self, seq, actor_id, otype, oid, data) -> None:
        if otype != "extension" or oid is None:
            return
        row = self._new("extension", oid, seq)
        for column in ("item_id", "reason", "progress_note", "old_deadline", "proposed_deadline"):
            if column in data:
                self._set("extension", row, column, data[column], seq)
        self._set("extension", row, "requested_by_id", actor_id, seq)

    def _simple(self, label, id_key, columns, seq, actor_id, otype, oid, data, actor=None) -> None:
        """A row one event on an item creates and nothing changes (an answer, a note, a warning)."""
        row_id = data.get(id_key)
        if otype != "item" or oid is None or not isinstance(row_id, int):
            return
        row = self._new(label, row_id, seq)
        self._set(label, row, "item_id", oid, seq)
        if actor:
            self._set(label, row, actor, actor_id, seq)
        for column in columns:
            if column in data:
                self._set(label, row, column, data[column], seq)


#: the actions whose payload the rows follow
ACTIONS = frozenset(ExpectedRows().handlers)
