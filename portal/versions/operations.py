"""Recording versions, comparing them, reverting to one (never touching workflow state)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.chain import Actor, inspection_id_of, record_event, utcnow
from portal.core.concurrency import claim_version
from portal.core.errors import NotAllowed, NotFound
from portal.core.extensions import db
from portal.core.policy import refused_fields
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from portal.notifications.operations import notify_assigned
from portal.versions.models import DocumentVersion

#: The fields a version keeps, per document type. Workflow states are never among them.
VERSIONED_FIELDS: dict[type, tuple[str, ...]] = {
    Inspection: (
        "title",
        "inspected_unit",
        "inspection_team",
        "start_date",
        "end_date",
        "feedback_date",
        "approval_policy",
        "party_secretary_id",
        "contact_phone",
        "contact_address",
        "contact_email",
        "remind_days",
        "warn_days",
        "interview_days",
        "follow_up_months",
    ),
    Category: ("label", "title", "position"),
    RectificationItem: (
        "category_id",
        "number",
        "title",
        "feedback_text",
        "responsible_leader_id",
        "department_id",
        "staff_id",
        "deadline",
        "completion_summary",
        "money_to_recover",
        "money_recovered",
        "public_summary",
        "progress_override",
    ),
    Measure: ("label", "text", "deadline"),
}
TYPE_NAMES = {Inspection: "inspection", Category: "category", RectificationItem: "item", Measure: "measure"}
MODELS = {name: model for model, name in TYPE_NAMES.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _from_json(model: type, field: str, value: Any) -> Any:
    if value is None:
        return None
    column_type = model.__table__.c[field].type
    if isinstance(column_type, sa.Date):
        return date.fromisoformat(value)
    if isinstance(column_type, sa.Numeric):
        return Decimal(value)
    return value


def snapshot(obj) -> dict[str, Any]:
    return {f: _jsonable(getattr(obj, f)) for f in VERSIONED_FIELDS[type(obj)]}


def versions_of(obj) -> list[DocumentVersion]:
    return db.session.scalars(
        sa.select(DocumentVersion)
        .where(DocumentVersion.object_type == TYPE_NAMES[type(obj)], DocumentVersion.object_id == obj.id)
        .order_by(DocumentVersion.number)
    ).all()


def latest_number(obj) -> int:
    """The number of the document's newest version: what its version history lists last.

    (An item's `version` column is something else: a counter every change bumps, transitions and
    ticked measures included, that forms send back to detect a concurrent change.)
    """
    return (
        db.session.scalar(
            sa.select(sa.func.max(DocumentVersion.number)).where(
                DocumentVersion.object_type == TYPE_NAMES[type(obj)], DocumentVersion.object_id == obj.id
            )
        )
        or 0
    )


def record_version(
    actor: Actor, obj, note: str = "", reverted_from: int | None = None, first: bool = False
) -> DocumentVersion:
    """Store the object's current fields as its next version (`first`: a new object's)."""
    kind = TYPE_NAMES[type(obj)]
    last = (
        0
        if first
        else db.session.scalar(
            sa.select(sa.func.max(DocumentVersion.number)).where(
                DocumentVersion.object_type == kind, DocumentVersion.object_id == obj.id
            )
        )
        or 0
    )
    version = DocumentVersion(
        object_type=kind,
        object_id=obj.id,
        number=last + 1,
        data=snapshot(obj),
        note=note.strip(),
        actor_id=actor.id,
        at=utcnow(),
        reverted_from=reverted_from,
    )
    db.session.add(version)
    return version


def apply_changes(
    actor: Actor,
    obj,
    values: dict[str, Any],
    note: str = "",
    action: str | None = None,
    reverted_from: int | None = None,
) -> dict:
    """Set versioned fields, store a version and audit before/after; return the changes."""
    fields = VERSIONED_FIELDS[type(obj)]
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"not versioned fields: {sorted(unknown)}")
    refused = refused_fields(actor.user, obj, values)
    if refused:
        from portal.versions.display import field_label  # (display reads this module)

        labels = "、".join(field_label(TYPE_NAMES[type(obj)], name) for name in refused)
        raise NotAllowed(_("Only the inspection office may change: %(fields)s.", fields=labels))
    before = snapshot(obj)
    for name, value in values.items():
        setattr(obj, name, value)
    db.session.flush()
    after = snapshot(obj)
    changes = {k: {"before": before[k], "after": after[k]} for k in fields if before[k] != after[k]}
    if not changes:
        return {}
    version = record_version(actor, obj, note, reverted_from)
    kind = TYPE_NAMES[type(obj)]
    record_event(
        actor,
        action or f"{kind}.update",
        kind,
        obj.id,
        {"changes": changes, "version": version.number, "note": version.note, "reverted_from": reverted_from},
        inspection_id=inspection_id_of(obj),
    )
    return changes


def revert_to(actor: Actor, obj, number: int, note: str = "") -> dict:
    """Make a new version equal to version `number`; workflow state is not a versioned field.

    An item (or a measure's item) is claimed first, so that a concurrent change is a Conflict.
    Raises NotFound when there is no version `number`. Returns the changes.
    """
    kind = TYPE_NAMES[type(obj)]
    old = db.session.scalar(
        sa.select(DocumentVersion).where(
            DocumentVersion.object_type == kind,
            DocumentVersion.object_id == obj.id,
            DocumentVersion.number == number,
        )
    )
    if old is None:
        raise NotFound(f"{kind} {obj.id} has no version {number}")
    item = obj if isinstance(obj, RectificationItem) else getattr(obj, "item", None)
    if item is not None:
        claim_version(item, item.version)
    values = {f: _from_json(type(obj), f, v) for f, v in old.data.items() if f in VERSIONED_FIELDS[type(obj)]}
    changes = apply_changes(actor, obj, values, note, action=f"{kind}.revert", reverted_from=number)
    if isinstance(obj, RectificationItem) and "staff_id" in changes:
        notify_assigned(actor, obj)
    return changes


# --- diffs ----------------------------------------------------------------------------------


@dataclass
class FieldDiff:
    field: str
    before: Any
    after: Any
    #: (tag, text) runs: "equal", "delete" (only in before), "insert" (only in after)
    runs: list[tuple[str, str]]

    @property
    def changed(self) -> bool:
        return self.before != self.after


#: Texts longer than this together are not compared character by character.
DIFF_MAX_CHARS = 40_000
#: How long one comparison may take (diff-match-patch's Diff_Timeout), in seconds.
DIFF_TIMEOUT = 0.2
#: The semantic clean-up runs on at most this many runs (it is not bounded by the timeout).
DIFF_CLEANUP_MAX_RUNS = 2_000
_TAGS = {0: "equal", -1: "delete", 1: "insert"}


@dataclass(frozen=True)
class TextDiff:
    #: (tag, text) runs: "equal", "delete" (only in before), "insert" (only in after); when
    #: `summarized`, the one run ("equal", "changed, N → M characters")
    runs: list[tuple[str, str]]
    #: the texts were too long, or too slow to compare: the runs only say how long they are
    summarized: bool = False


def summary(before: str, after: str) -> str:
    return _("changed, %(before)s → %(after)s characters", before=f"{len(before):,}", after=f"{len(after):,}")


def text_diff(
    before: str, after: str, timeout: float = DIFF_TIMEOUT, max_chars: int = DIFF_MAX_CHARS
) -> TextDiff:
    """Character-level differences (Chinese has no word boundaries to diff on), in bounded time.

    diff-match-patch (Myers' algorithm with a deadline) compares; texts longer than `max_chars`
    together, or a comparison that reaches its `timeout`, fall back to a summary.
    """
    if before == after:
        return TextDiff([("equal", before)] if before else [])
    if len(before) + len(after) > max_chars:
        return TextDiff([("equal", summary(before, after))], summarized=True)
    from diff_match_patch import diff_match_patch  # (imported when used: 90 ms at every start)

    matcher = diff_match_patch()
    matcher.Diff_Timeout = timeout
    started = time.monotonic()
    diffs = matcher.diff_main(before, after)
    if timeout and time.monotonic() - started >= timeout:  # the deadline cut the comparison short
        return TextDiff([("equal", summary(before, after))], summarized=True)
    if len(diffs) <= DIFF_CLEANUP_MAX_RUNS:
        matcher.diff_cleanupSemantic(diffs)
    return TextDiff([(_TAGS[op], text) for op, text in diffs if text])


def char_runs(before: str, after: str, timeout: float = DIFF_TIMEOUT) -> list[tuple[str, str]]:
    """The runs of `text_diff`: for texts too long or too slow to compare, the one run
    ("equal", "changed, N → M characters"). A page of many diffs may pass a smaller `timeout`."""
    return text_diff(before, after, timeout).runs


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[FieldDiff]:
    """Compare two snapshots field by field."""
    result = []
    for field in dict.fromkeys([*before, *after]):
        a, b = before.get(field), after.get(field)
        text_a = "" if a is None else str(a)
        text_b = "" if b is None else str(b)
        result.append(FieldDiff(field, a, b, char_runs(text_a, text_b)))
    return result
