"""Versions as a reader sees them: field names in the user's language, ids resolved to names,
dates, amounts, choices and yes/no formatted.

Stored snapshots keep ids and ISO strings (`department_id: 3`, `deadline: "2026-06-30"`); these
functions turn two of them into rows a person reads (责任部门：财务科 → 办公室). Free text is
compared character by character, in bounded time (a text too long or too slow to compare is
summarised as "changed, N → M characters"); every other value is replaced whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Department, User
from portal.core.extensions import db
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE, Category
from portal.versions.operations import MODELS, text_diff

#: Field labels, as the edit forms name the fields.
FIELD_LABELS = {
    "title": _l("Title"),
    "inspected_unit": _l("Inspected unit"),
    "inspection_team": _l("Inspection team"),
    "start_date": _l("Inspection start"),
    "end_date": _l("Inspection end"),
    "feedback_date": _l("Feedback date"),
    "approval_policy": _l("Approval policy"),
    "party_secretary_id": _l("Party secretary (党组书记)"),
    "contact_phone": _l("Public contact phone"),
    "contact_address": _l("Public contact address"),
    "contact_email": _l("Public contact email"),
    "remind_days": _l("Reminder (提醒) when this many days or fewer are left"),
    "warn_days": _l("Warning (预警) when this many days or fewer are left"),
    "interview_days": _l("Interview (约谈) when this many days or more overdue (督办 as soon as overdue)"),
    "follow_up_months": _l("Follow-up check (回头看) this many months after completion"),
    "label": _l("Number as written"),
    "position": _l("Order"),
    "category_id": _l("Category"),
    "number": _l("Number as written"),
    "feedback_text": _l("Feedback text (反馈问题)"),
    "responsible_leader_id": _l("Responsible leader (责任领导)"),
    "department_id": _l("Responsible department (责任部门)"),
    "staff_id": _l("Responsible staff (责任人)"),
    "completion_summary": _l("Completion summary (整改成效)"),
    "money_to_recover": _l("Money to recover (yuan)"),
    "money_recovered": _l("Money recovered (yuan)"),
    "public_summary": _l("Public summary"),
    "progress_override": _l("Progress (%)"),
    "text": _l("Measure"),
}
#: Where a field's label differs between document types.
FIELD_LABELS_BY_KIND = {
    ("item", "deadline"): _l("Deadline (整改时限)"),
    ("measure", "deadline"): _l("Deadline"),
}

#: Stored codes and the words they stand for.
CHOICE_LABELS = {
    "approval_policy": {
        APPROVAL_SINGLE: _l("One approval by the responsible leader"),
        APPROVAL_DUAL: _l("双审制: the responsible leader and the party secretary"),
    },
}

#: Foreign keys: the model they point to and the name a person knows it by.
REFERENCES = {
    "users": (User, lambda user: user.display_name),
    "departments": (Department, lambda department: department.name),
    "categories": (Category, lambda category: f"{category.label} {category.title}".strip()),
}


def field_label(kind: str, field: str) -> str:
    label = FIELD_LABELS_BY_KIND.get((kind, field)) or FIELD_LABELS.get(field)
    return str(label) if label is not None else field


@dataclass
class ShownField:
    """One field of two versions, as shown: its label and both values in words."""

    field: str
    label: str
    before: str
    after: str
    #: (tag, text) runs: "equal", "delete" (only in before), "insert" (only in after)
    runs: list[tuple[str, str]]
    #: the texts were too long to compare: `runs` is one ("equal", "changed, N → M characters")
    summarized: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _column(kind: str, field: str) -> sa.Column | None:
    model = MODELS.get(kind)
    return model.__table__.c.get(field) if model is not None else None


def _reference(column: sa.Column | None) -> str | None:
    if column is None:
        return None
    for fk in column.foreign_keys:
        if fk.column.table.name in REFERENCES:
            return fk.column.table.name
    return None


def _names(kind: str, snapshots: Iterable[dict[str, Any]]) -> dict[tuple[str, Any], str]:
    """The names of every row the snapshots' foreign keys point to (one query per table)."""
    wanted: dict[str, set] = {}
    for data in snapshots:
        for field, value in data.items():
            table = _reference(_column(kind, field))
            if table and value is not None:
                wanted.setdefault(table, set()).add(value)
    names = {}
    for table, ids in wanted.items():
        model, name = REFERENCES[table]
        for row in db.session.scalars(sa.select(model).where(model.id.in_(ids))):
            names[(table, row.id)] = name(row)
    return names


def _amount(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def shown_value(kind: str, field: str, value: Any, names: dict[tuple[str, Any], str]) -> str:
    """One stored value in words ("" for none)."""
    if value is None or value == "":
        if field == "progress_override":
            return _("from the measures")
        return ""
    column = _column(kind, field)
    table = _reference(column)
    if table:
        return names.get((table, value)) or _("(deleted, no. %(id)s)", id=value)
    if field in CHOICE_LABELS:
        return str(CHOICE_LABELS[field].get(value, value))
    column_type = column.type if column is not None else None
    if isinstance(value, bool) or isinstance(column_type, sa.Boolean):
        return _("yes") if value else _("no")
    if isinstance(column_type, sa.Date):
        try:
            return format_date(date.fromisoformat(value), "long")
        except (TypeError, ValueError):
            return str(value)
    if isinstance(column_type, sa.Numeric):
        return _amount(value)
    if field == "progress_override":
        return f"{value}%"
    return str(value)


def _free_text(kind: str, field: str) -> bool:
    column = _column(kind, field)
    return (
        column is not None
        and isinstance(column.type, sa.String | sa.Text)
        and field not in CHOICE_LABELS
        and _reference(column) is None
    )


def shown_diff(kind: str, before: dict[str, Any], after: dict[str, Any]) -> list[ShownField]:
    """Compare two snapshots of a `kind` document field by field, as a reader reads them."""
    names = _names(kind, (before, after))
    rows = []
    for field in dict.fromkeys([*before, *after]):
        a = shown_value(kind, field, before.get(field), names)
        b = shown_value(kind, field, after.get(field), names)
        summarized = False
        if _free_text(kind, field) or a == b:
            compared = text_diff(a, b)
            runs, summarized = compared.runs, compared.summarized
        else:  # a name, a date, an amount: replaced whole, never spliced
            runs = [*([("delete", a)] if a else []), *([("insert", b)] if b else [])]
        rows.append(ShownField(field, field_label(kind, field), a, b, runs, summarized))
    return rows


def document_name(obj) -> str:
    """How the version pages name the document."""
    title = getattr(obj, "title", None)
    if title:
        return title
    label, text = getattr(obj, "label", ""), getattr(obj, "text", "")
    return f"{label}、{text[:30]}" if label else text[:30]


def changed_since(obj, seen: int | str | None) -> list[ShownField] | None:
    """What changed in `obj` since its version `seen`, field by field as a reader reads it;
    None when that version is unknown (no number, or not one of its versions)."""
    from portal.versions.operations import TYPE_NAMES, snapshot, versions_of

    try:
        number = int(seen)
    except (TypeError, ValueError):
        return None
    by_number = {v.number: v for v in versions_of(obj)}
    if number not in by_number:
        return None
    kind = TYPE_NAMES[type(obj)]
    return [row for row in shown_diff(kind, by_number[number].data, snapshot(obj)) if row.before != row.after]
