"""对账: the stored rows compared with the rows the history implies (`expected.ExpectedRows`).

Each table is read once, streamed in id order, within the check's scope (everything, one
inspection's documents, or one item's). Three kinds of disagreement are reported, each with
the object it concerns and a seq:

* a stored value that differs from the replayed one (the seq of the event that last set it);
* a row that no event created: inserted behind the application's back;
* a row that an event created and that is gone (the seq of that event).
"""

from __future__ import annotations

import itertools
import json
import json.scanner
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import Department, User, UserRole
from portal.auditing.expected import ABSENT, DOCUMENTS, ROW_MODELS, UNKNOWN, ExpectedRows, normal, shown
from portal.core.extensions import db
from portal.core.models import LocalRole, WorkflowHistory
from portal.feedback.models import Feedback
from portal.inspections.models import Inspection, RectificationItem
from portal.versions.models import DocumentVersion
from portal.versions.operations import VERSIONED_FIELDS
from portal.workflow.models import Approval

#: labels whose rows without a creation event the state replay reports already
_STATE_REPLAYED = frozenset({"inspection", "item", "feedback", "extension"})
#: the object types with a workflow history, and those local roles are granted on
_WORKFLOW_OBJECTS = ("inspection", "item", "feedback", "extension")
_SHARED_OBJECTS = ("inspection", "category", "item")
#: the rows that belong to an item (their scope follows the item's)
_ON_ITEMS = ("measure", "evidence", "fix_check", "chase", "warning", "approval")
_CHECK_CLOCK_EVERY = 2000


@dataclass(frozen=True)
class Scope:
    """What a check covers: everything, one inspection's documents, or one item's (the item's
    page reads only its own and its measures' events)."""

    inspection: int | None = None
    item: int | None = None

    @property
    def everything(self) -> bool:
        return self.inspection is None and self.item is None

    def _items(self):
        return sa.select(RectificationItem.id).where(RectificationItem.inspection_id == self.inspection)

    def rows(self, label: str):
        """The WHERE clause of `label`'s rows in scope; None: not checked in this scope."""
        if self.everything:
            return sa.true()
        if label in ("user", "department"):
            return None
        model = DOCUMENTS.get(label) or ROW_MODELS.get(label) or Approval
        if self.item is not None:
            if label == "item":
                return RectificationItem.id == self.item
            return model.item_id == self.item if label in _ON_ITEMS else None
        if label == "inspection":
            return Inspection.id == self.inspection
        if label in _ON_ITEMS:
            return model.item_id.in_(self._items())
        return model.inspection_id == self.inspection  # categories, items, feedback, requests

    def objects(self, object_type, object_id, labels: Iterable[str]):
        """The rows naming (object_type, object_id) of `labels` in scope."""
        if self.everything:
            return sa.true()
        clauses = []
        for label in labels:
            where = self.rows(label)
            if where is not None:
                model = DOCUMENTS.get(label) or ROW_MODELS[label]
                ids = sa.select(model.id).where(where)
                clauses.append(sa.and_(object_type == label, object_id.in_(ids)))
        return sa.or_(*clauses) if clauses else sa.false()


def _stream(query) -> Iterator:
    # options on the statement, not the connection (which would keep them for later writes)
    return iter(db.session.connection().execute(query.execution_options(stream_results=True, yield_per=2000)))


class Reconciler:
    """Compare the stored rows in `scope` with `expected`, reporting to `report`."""

    def __init__(self, expected: ExpectedRows, report, scope: Scope, tick: Callable[[], None] = lambda: None):
        self.expected, self.report, self.scope, self._tick = expected, report, scope, tick

    def run(self) -> None:
        for label, model in DOCUMENTS.items():
            columns = [getattr(model, c) for c in self.expected.kinds[label]]
            self._rows(label, model, columns)
        self._users()
        self._rows("department", Department, [Department.name])
        feedback = (Feedback.inspection_id, Feedback.item_id, Feedback.kind, Feedback.text)
        self._rows(
            "feedback",
            Feedback,
            [
                *feedback,
                Feedback.original_text,
                Feedback.reply,
                Feedback.name,
                Feedback.phone,
                Feedback.email,
            ],
            derive=lambda r: {"contact_given": bool(r["name"] or r["phone"] or r["email"])},
        )
        evidence = ROW_MODELS["evidence"]
        self._rows(
            "evidence",
            evidence,
            [getattr(evidence, c) for c in self.expected.kinds["evidence"] if c != "withdrawn"]
            + [evidence.withdrawn_at, evidence.storage_key],
            derive=lambda r: {"withdrawn": r["withdrawn_at"] is not None},
            # a file without its evidence.add event is reported by the evidence check
            unrecorded=lambda r: r["storage_key"] is None,
        )
        for label in ("extension", "fix_check", "chase", "warning"):
            model = ROW_MODELS[label]
            self._rows(label, model, [getattr(model, c) for c in self.expected.kinds[label]])
        self._versions()
        self._approvals()
        self._history()
        self._grants()

    # reporting

    def _count(self, rows: int = 1) -> None:
        before = self.report.rows_reconciled
        self.report.rows_reconciled += rows
        if before // _CHECK_CLOCK_EVERY != self.report.rows_reconciled // _CHECK_CLOCK_EVERY:
            self._tick()

    # Names of parts may be given as callables: once the report is full, problems are counted,
    # not worded, so that a wholesale edit costs no translation each.

    def _differs(self, where: str, column, stored: Any, replayed: Any, seq: int) -> None:
        if self.report.full:
            self.report.add("row", where, seq, None)
            return
        self.report.add(
            "row",
            where,
            seq,
            _(
                "%(object)s: stored %(column)s is %(stored)s but the history implies %(replayed)s "
                "(last set by seq %(seq)d)",
                object=where,
                column=_worded(column),
                stored=shown(stored),
                replayed=shown(replayed),
                seq=seq,
            ),
        )

    def _unrecorded(self, where: str, part=None) -> None:
        if self.report.full:
            self.report.add("row", where, None, None)
            return
        if part is None:
            message = _("%(object)s has no creation event in the audit log", object=where)
        else:
            message = _("%(object)s: %(row)s has no event in the audit log", object=where, row=_worded(part))
        self.report.add("row", where, None, message)

    def _gone(self, where: str, seq: int, part=None) -> None:
        if self.report.full:
            self.report.add("row", where, seq, None)
            return
        if part is None:
            message = _("%(object)s was created at seq %(seq)d but its row is missing", object=where, seq=seq)
        else:
            message = _(
                "%(object)s: %(row)s recorded at seq %(seq)d is missing",
                object=where,
                row=_worded(part),
                seq=seq,
            )
        self.report.add("row", where, seq, message)

    # one row per object

    def _rows(self, label, model, columns, derive=None, unrecorded=None) -> None:
        where = self.scope.rows(label)
        if where is None:
            return
        expected, kinds = self.expected.rows[label], self.expected.kinds[label]
        seen = set()
        query = sa.select(model.id, *columns).where(where).order_by(model.id)
        for stored in _stream(query):
            stored = stored._mapping
            if derive is not None:
                stored = {**stored, **derive(stored)}
            self._count()
            oid = stored["id"]
            row = expected.get(oid)
            if row is None:
                if label not in _STATE_REPLAYED and (unrecorded is None or unrecorded(stored)):
                    self._unrecorded(f"{label}:{oid}")
                continue
            seen.add(oid)
            for column, (value, seq) in row.values.items():
                got = normal(kinds[column], stored[column])
                if got != value:
                    self._differs(f"{label}:{oid}", column, got, value, seq)
        for oid, row in expected.items():
            if oid not in seen:
                self._gone(f"{label}:{oid}", row.seq)

    def _users(self) -> None:
        if self.scope.rows("user") is None:
            return
        roles: dict[int, list[str]] = {}
        for user_id, role in db.session.execute(sa.select(UserRole.user_id, UserRole.role)):
            roles.setdefault(user_id, []).append(role)
        # a department by the name its history gives it (a renamed one is reported once, itself)
        names = dict(db.session.execute(sa.select(Department.id, Department.name)).all())
        for department_id, row in self.expected.rows["department"].items():
            if "name" in row.values:
                names[department_id] = row.values["name"][0]
        columns = (User.login, User.display_name, User.email, User.department_id, User.active)
        self._rows(
            "user",
            User,
            [*columns, User.email_notifications],
            derive=lambda r: {
                "department": names.get(r["department_id"]),
                "roles": sorted(roles.get(r["id"], ())),
            },
        )

    # versions, approvals, history, grants

    def _versions(self) -> None:
        v = DocumentVersion
        query = (
            sa.select(
                v.id,
                v.object_type,
                v.object_id,
                v.number,
                sa.cast(v.data, sa.Text).label("data"),  # its text, read below by `_json`
                v.note,
                v.actor_id,
                v.reverted_from,
            )
            .where(self.scope.objects(v.object_type, v.object_id, DOCUMENTS))
            .order_by(v.object_type, v.object_id, v.number)
        )
        seen = set()
        # plain tuples: a row's attributes cost several times its items, 400k rows a run
        for key, group in itertools.groupby(_stream(query), key=operator.itemgetter(1, 2)):
            seen.add(key)
            self._document_versions(*key, list(group))
        for label in DOCUMENTS:
            for oid, row in self.expected.rows[label].items():
                if (label, oid) not in seen and row.versions:
                    number, *_rest, seq = row.versions[0]
                    self._gone(f"{label}:{oid}", seq, partial(_version, number))

    def _document_versions(self, otype: str, oid: int, versions: list) -> None:
        where = f"{otype}:{oid}"
        row = self.expected.rows.get(otype, {}).get(oid)
        stored = {v[3]: v for v in versions}  # number -> (id, type, id, number, data, note, ...)
        self._count(len(versions))
        if row is None:
            for number in stored:
                self._unrecorded(where, partial(_version, number))
            return
        if row.versions is None:
            return  # an old event left a version unnumbered: the rest is unknown
        kinds, current = self.expected.kinds[otype], set(VERSIONED_FIELDS[DOCUMENTS[otype]])
        data: dict[str, tuple[Any, int]] = {}
        snapshot: dict[str, Any] = {}  # data without the seqs
        for number, changes, note, actor_id, reverted, seq in row.versions:
            for field, value in changes:
                data[field] = (value, seq)
                snapshot[field] = value
            version = stored.pop(number, None)
            if version is None:
                self._gone(where, seq, partial(_version, number))
                continue
            _id, _type, _oid, _number, recorded, stored_note, stored_actor, stored_reverted = version
            recorded = _json(recorded)
            if not isinstance(recorded, dict):
                recorded = {}
            # Every field there with the replayed value (the usual case): nothing differs,
            # since a stored value equal to a comparable form normalises to that form. Checked
            # at C speed; only a version that fails it is compared field by field.
            if not snapshot.items() <= recorded.items():
                self._version_fields(where, number, recorded, data, kinds, current)
            if (
                (note is UNKNOWN or stored_note == note)
                and stored_actor == actor_id
                and (reverted is UNKNOWN or stored_reverted == reverted)
            ):
                continue  # the same test as below for values as they are (normal leaves them)
            for column, got, value in (
                ("note", stored_note, note),
                ("actor_id", stored_actor, actor_id),
                ("reverted_from", stored_reverted, reverted),
            ):
                got = normal("plain", got)
                if value is not UNKNOWN and got != value:
                    self._differs(where, partial(_version, number, column), got, value, seq)
        for number in stored:
            self._unrecorded(where, partial(_version, number))

    def _version_fields(self, where, number, recorded, data, kinds, current) -> None:
        for field, (value, set_by) in data.items():
            if field in recorded or field in current:  # a field no longer versioned: gone
                got = normal(kinds[field], recorded.get(field, ABSENT))
                if got != value:
                    self._differs(where, partial(_version, number, field), got, value, set_by)

    def _approvals(self) -> None:
        where = self.scope.rows("approval")
        query = (
            sa.select(Approval.id, Approval.item_id, Approval.user_id, Approval.cleared_at)
            .where(where)
            .order_by(Approval.item_id, Approval.id)
        )
        seen = set()
        for item_id, group in itertools.groupby(_stream(query), key=lambda r: r.item_id):
            seen.add(item_id)
            self._item_approvals(item_id, list(group))
        for item_id, approvals in self.expected.approvals.items():
            if item_id not in seen:
                for user_id, _open, seq, _cleared in approvals:
                    self._gone(f"item:{item_id}", seq, _("the approval by user:%(user)s", user=user_id))

    def _item_approvals(self, item_id: int, rows: list) -> None:
        where, remaining = f"item:{item_id}", list(self.expected.approvals.get(item_id, ()))
        unmatched = []
        for row in rows:
            self._count()
            match = next(
                (a for a in remaining if a[0] == row.user_id and a[1] == (row.cleared_at is None)), None
            )
            if match is None:
                unmatched.append(row)
            else:
                remaining.remove(match)
        for row in unmatched:
            name = _("approval #%(id)d by user:%(user)s", id=row.id, user=row.user_id)
            match = next((a for a in remaining if a[0] == row.user_id), None)
            if match is None:
                self._unrecorded(where, name)
                continue
            remaining.remove(match)
            user_id, still_open, approved, cleared = match
            self._differs(where, f"{name} open", row.cleared_at is None, still_open, cleared or approved)
        for user_id, _open, seq, _cleared in remaining:
            self._gone(where, seq, _("the approval by user:%(user)s", user=user_id))

    def _history(self) -> None:
        h = WorkflowHistory
        columns = (h.workflow, h.action, h.actor_id, h.comment, h.from_state, h.to_state, h.evidence_ids)
        query = (
            sa.select(h.id, h.object_type, h.object_id, *columns)
            .where(self.scope.objects(h.object_type, h.object_id, _WORKFLOW_OBJECTS))
            .order_by(h.id)
        )
        expected, unnumbered = self.expected.history, dict(self.expected.unnumbered_history)
        seen = set()
        for stored in _stream(query):
            self._count()
            where = f"{stored.object_type}:{stored.object_id}"
            name = partial(_entry, stored.id, stored.action)
            entry = expected.get(stored.id)
            if entry is None:
                key = (stored.object_type, stored.object_id)
                if unnumbered.get(key):  # an old event named no entry: this may be it
                    unnumbered[key] -= 1
                else:
                    self._unrecorded(where, name)
                continue
            seen.add(stored.id)
            otype, oid, values, seq = entry
            if (otype, oid) != (stored.object_type, stored.object_id):
                self._differs(
                    where, partial(_entry, stored.id, stored.action, "object"), where, f"{otype}:{oid}", seq
                )
            for column, value in values.items():
                got = normal("plain", getattr(stored, column))
                if got != value:
                    self._differs(where, partial(_entry, stored.id, stored.action, column), got, value, seq)
        for history_id, (otype, oid, values, seq) in expected.items():
            if history_id not in seen:
                self._gone(f"{otype}:{oid}", seq, partial(_entry, history_id, values["action"]))

    def _grants(self) -> None:
        g = LocalRole
        query = (
            sa.select(g.id, g.object_type, g.object_id, g.role, g.user_id, g.department_id, g.granted_by_id)
            .where(self.scope.objects(g.object_type, g.object_id, _SHARED_OBJECTS))
            .order_by(g.object_type, g.object_id, g.id)
        )
        seen = set()
        for key, group in itertools.groupby(_stream(query), key=lambda r: (r.object_type, r.object_id)):
            seen.add(key)
            self._object_grants(key, list(group))
        for (otype, oid), grants in self.expected.grants.items():
            if (otype, oid) not in seen:
                for principal, _by, seq in grants:
                    self._gone(f"{otype}:{oid}", seq, _grant_name(principal))

    def _object_grants(self, key: tuple[str, int], rows: list) -> None:
        where, remaining = f"{key[0]}:{key[1]}", list(self.expected.grants.get(key, ()))
        unmatched = []
        for row in rows:
            self._count()
            principal = (row.role, row.user_id, row.department_id)
            match = next((g for g in remaining if g[0] == principal and g[1] == row.granted_by_id), None)
            if match is None:
                unmatched.append((row, principal))
            else:
                remaining.remove(match)
        for row, principal in unmatched:
            name = _("grant #%(id)d (%(grant)s)", id=row.id, grant=_grant_name(principal))
            match = next((g for g in remaining if g[0] == principal), None)
            if match is None:
                self._unrecorded(where, name)
            else:
                remaining.remove(match)
                self._differs(where, f"{name} granted_by_id", row.granted_by_id, match[1], match[2])
        for principal, _by, seq in remaining:
            self._gone(where, seq, _grant_name(principal))


_scan = json.scanner.make_scanner(json.JSONDecoder())


def _json(value: Any) -> Any:
    """A version's data from its text (read as json.loads reads it, by its scanner alone when
    the text is one value, the common case; cheaper than the driver's or SQLAlchemy's JSON
    reading); a value a driver has already read is taken as it is; None: not JSON."""
    if not isinstance(value, str):
        return value
    try:
        found, end = _scan(value, 0)
        if end == len(value):
            return found
    except (StopIteration, ValueError):
        pass
    try:
        return json.loads(value)
    except ValueError:
        return None


def _worded(part) -> str:
    return part() if callable(part) else part


def _version(number: int, column: str | None = None) -> str:
    name = _("version %(n)d", n=number)
    return f"{name} {column}" if column else name


def _entry(history_id: int, action: str, column: str | None = None) -> str:
    name = _("workflow history entry #%(id)d (%(action)s)", id=history_id, action=action)
    return f"{name} {column}" if column else name


def _grant_name(principal: tuple) -> str:
    role, user_id, department_id = principal
    who = f"user:{user_id}" if user_id is not None else f"department:{department_id}"
    return _("%(role)s to %(principal)s", role=role, principal=who)
