"""The audit log read as a register (登记簿): who did what to which object, in words.

Every recorded action has a label in the user's language (workflow transitions take their
titles from the workflow definitions), every actor its display name, every object its type
and name. Names for a page of events are looked up with one query per object type on the
page (never one per row); an object that no longer exists is named from its event's payload,
or by its number. The filter's "person" and "action" fields accept what the register shows:
a display name or a login, an action's label or its code.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.models import Department, User
from portal.audit.models import AuditEvent
from portal.auditing.log import known_actions, transition_prefix
from portal.core.extensions import db
from portal.core.filters import visible
from portal.core.titles import title_of
from portal.feedback.models import Feedback
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from workflows import WORKFLOWS

#: Names are cut to this many characters in the register (the full name is the tooltip).
NAME_LENGTH = 24

#: Actions that are not workflow transitions, by code.
ACTION_LABELS = {
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Sign-in failed"),
    "auth.login_refused": _l("Sign-in refused"),
    "auth.logout": _l("Signed out"),
    "auth.mfa_challenge": _l("Asked for the second sign-in step"),
    "auth.mfa_failed": _l("Second sign-in step failed"),
    "auth.reauth": _l("Confirmed the password again"),
    "auth.reauth_failed": _l("Password confirmation failed"),
    "auth.reauth_refused": _l("Password confirmation refused"),
    "user.mfa_enrolment_started": _l("Began setting up two-step sign-in"),
    "user.mfa_enrol": _l("Set up two-step sign-in"),
    "user.mfa_recovery_codes": _l("Made new recovery codes"),
    "user.mfa_disable": _l("Turned two-step sign-in off"),
    "user.mfa_reset": _l("Reset two-step sign-in"),
    "user.create": _l("Created account"),
    "user.update": _l("Edited account"),
    "user.set_roles": _l("Changed roles"),
    "user.set_password": _l("Set password"),
    "user.deactivate": _l("Deactivated account"),
    "user.reactivate": _l("Reactivated account"),
    "department.create": _l("Created department"),
    "measure.done": _l("Marked the measure done"),
    "measure.undone": _l("Marked the measure not done"),
    "measure.long_term": _l("Marked the measure long-term"),
    "measure.not_applicable": _l("Marked the measure not applicable"),
    "evidence.add": _l("Added evidence"),
    "evidence.withdraw": _l("Withdrew evidence"),
    "sharing.grant": _l("Granted a role"),
    "sharing.revoke": _l("Revoked a role"),
    "sharing.block_inheritance": _l("Changed role inheritance"),
    "notice.preview": _l("Uploaded a notice for preview"),
    "notice.import": _l("Imported a notice"),
    "ledger.import": _l("Imported a ledger"),
    "feedback.submit": _l("Submitted feedback"),
    "feedback.edit": _l("Edited feedback"),
    "fix_check.answer": _l("Answered “Is it really fixed?”"),
    "notification.send": _l("Sent notifications"),
    "notification.read": _l("Marked a notification read"),
    "notification.read_all": _l("Marked all notifications read"),
    "user.email_notifications": _l("Changed the e-mail preference"),
    "item.chase": _l("Chased the item (催办)"),
    "extension.request": _l("Requested a deadline extension"),
    "audit.export": _l("Exported the audit log"),
    "audit.verify": _l("Ran the integrity verification"),
}

#: What a document's own events do, whatever the document (the object column says which).
DOCUMENT_ACTIONS = {"create": _l("Created"), "update": _l("Edited"), "revert": _l("Reverted to a version")}
DOCUMENT_KINDS = ("inspection", "category", "item", "measure")


#: Object types, as the register names them.
OBJECT_LABELS = {
    "inspection": _l("Inspection"),
    "category": _l("Category"),
    "item": _l("Item"),
    "measure": _l("Measure"),
    "feedback": _l("Feedback"),
    "user": _l("Account"),
    "department": _l("Department"),
    "login": _l("Login name"),
    "audit": _l("Audit log"),
    "notice_preview": _l("Notice preview"),
    "notification": _l("Notification"),
    "extension": _l("Extension request"),
}

#: Actors without an account, by the name events record.
SYSTEM_ACTORS = {"anonymous": _l("The public"), "demo": _l("Demo data")}


def action_label(code: str) -> str:
    """The action in words, in the user's language; an unknown code is shown as it is."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    prefix, _dot, rest = code.partition(".")
    for wf_id in WORKFLOWS:
        if transition_prefix(wf_id) == prefix:
            for transition in WORKFLOWS[wf_id].transitions:
                if transition.id == rest:
                    return title_of(transition)
    if prefix in DOCUMENT_KINDS and rest in DOCUMENT_ACTIONS:
        return str(DOCUMENT_ACTIONS[rest])
    return code


def object_label(object_type: str) -> str:
    return str(OBJECT_LABELS.get(object_type, object_type))


def zone_label() -> str:
    """The time zone the pages show times in, e.g. "北京时间 UTC+8"."""
    zone = ZoneInfo(str(get_timezone()))
    minutes = int(datetime.now(UTC).astimezone(zone).utcoffset().total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    offset = f"UTC{'+' if minutes >= 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")
    name = _("Beijing time") if zone.key in ("Asia/Shanghai", "PRC", "Asia/Chongqing") else zone.key
    return f"{name} {offset}"


def shorten(text: str, length: int = NAME_LENGTH) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


# --- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    login: str
    name: str


def people() -> list[Person]:
    """Every account (one query): the actors' names and the person filter's suggestions."""
    rows = db.session.execute(sa.select(User.id, User.login, User.display_name).order_by(User.display_name))
    return [Person(i, login, name or login) for i, login, name in rows]


def actor_name(event: AuditEvent, by_id: dict[int, Person]) -> str:
    """Who acted, as people call them: the account's display name, or the system actor's."""
    person = by_id.get(event.actor_id) if event.actor_id is not None else None
    if person is not None:
        return person.name
    if event.actor in SYSTEM_ACTORS:
        return str(SYSTEM_ACTORS[event.actor])
    if event.actor.startswith("cli:"):
        return _("Command line (%(login)s)", login=event.actor[4:])
    return event.actor


@dataclass(frozen=True)
class ActorMatch:
    """What the person filter stands for: the `actor` values to look for, and whom they name."""

    logins: tuple[str, ...]
    names: tuple[str, ...] = ()  # as the register shows them, when found by name

    @property
    def several(self) -> bool:
        return len(self.logins) > 1


def match_actor(text: str, everyone: Iterable[Person]) -> ActorMatch:
    """A login (exactly), else every person whose display name contains `text`, else the
    system actors whose label contains it, else `text` itself (an actor recorded by name)."""
    text = text.strip()
    folded = text.casefold()
    everyone = list(everyone)
    if text in SYSTEM_ACTORS:
        return ActorMatch((text,))
    exact = [p for p in everyone if p.login.casefold() == folded]
    if exact:
        return ActorMatch((exact[0].login,), (exact[0].name,))
    named = [p for p in everyone if folded in p.name.casefold()]
    system = [code for code, label in SYSTEM_ACTORS.items() if folded in str(label).casefold()]
    if named or system:
        return ActorMatch(
            tuple([p.login for p in named] + system),
            tuple([p.name for p in named] + [str(SYSTEM_ACTORS[code]) for code in system]),
        )
    return ActorMatch((text,))


def action_choices() -> list[tuple[str, list[str]]]:
    """(label, codes) for every known action, labels in the user's language, each label once."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for code in known_actions():
        by_label[action_label(code)].append(code)
    return sorted(by_label.items(), key=lambda pair: pair[1][0])


def match_action(text: str) -> tuple[str, ...]:
    """The action codes `text` stands for: a code, a label (exactly, else in part); empty when
    it names no action. Something written like a code is taken as one (an action recorded
    before the list knew it still filters)."""
    text = text.strip()
    folded = text.casefold()
    choices = action_choices()
    codes = {code for _label, group in choices for code in group}
    if text in codes:
        return (text,)
    for wanted in (lambda label: label.casefold() == folded, lambda label: folded in label.casefold()):
        found = [code for label, group in choices if wanted(label) for code in group]
        if found:
            return tuple(sorted(found))
    if _looks_like_code(text):
        return (text,)
    return ()


def _looks_like_code(text: str) -> bool:
    return re.fullmatch(r"[a-z_]+\.[a-z_]+", text) is not None


# --- objects --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectName:
    kind: str  # the type in words
    name: str  # the full name ("" when the object has none)
    url: str | None  # where the viewer reads it, if anywhere

    @property
    def short(self) -> str:
        return shorten(self.name)


@dataclass(frozen=True)
class Entry:
    """One line of the register: the event and what it says in words."""

    event: AuditEvent
    actor: str
    action: str
    object: ObjectName
    automatic: bool = False  # a step the workflow took by itself after the actor's


def _payload(event: AuditEvent) -> dict:
    try:
        value = json.loads(event.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


#: Payload keys that name an object that is gone, by object type.
NAME_KEYS = {
    "inspection": ("title",),
    "category": ("title",),
    "item": ("title",),
    "measure": ("text",),
    "feedback": ("text",),
    "user": ("display_name", "login"),
    "department": ("name",),
}


def _name_from_payload(event: AuditEvent) -> str:
    payload = _payload(event)
    for key in NAME_KEYS.get(event.object_type, ()):
        if isinstance(payload.get(key), str) and payload[key].strip():
            return payload[key]
    return ""


@dataclass(frozen=True)
class _Found:
    name: str
    readable: bool  # whether the viewer may read the object
    item_id: int | None = None  # a measure's item


def _queries(viewer) -> dict:
    """Per object type: ids -> a query of (id, name parts…, readable[, item id])."""

    def readable(model):
        return visible(viewer, model).label("readable")

    return {
        "inspection": lambda ids: sa.select(Inspection.id, Inspection.title, readable(Inspection)).where(
            Inspection.id.in_(ids)
        ),
        "category": lambda ids: sa.select(
            Category.id, Category.label, Category.title, readable(Category)
        ).where(Category.id.in_(ids)),
        "item": lambda ids: sa.select(
            RectificationItem.id, RectificationItem.title, readable(RectificationItem)
        ).where(RectificationItem.id.in_(ids)),
        "measure": lambda ids: sa.select(
            Measure.id, Measure.label, Measure.text, readable(Measure), Measure.item_id
        ).where(Measure.id.in_(ids)),
        # no page shows these to the register's readers: named, not linked
        "feedback": lambda ids: sa.select(Feedback.id, Feedback.text, sa.false()).where(Feedback.id.in_(ids)),
        "department": lambda ids: sa.select(Department.id, Department.name, sa.false()).where(
            Department.id.in_(ids)
        ),
    }


def _lookups(ids_by_type: dict[str, set[int]], viewer) -> dict[tuple[str, int], _Found]:
    """(type, id) -> what is stored now; one query per object type present."""
    found: dict[tuple[str, int], _Found] = {}
    queries = _queries(viewer)
    for object_type, ids in ids_by_type.items():
        if object_type not in queries or not ids:
            continue
        for row in db.session.execute(queries[object_type](sorted(ids))):
            if object_type == "category":
                oid, label, title, ok = row
                entry = _Found(f"{label}、{title}" if label else title, bool(ok))
            elif object_type == "measure":
                oid, label, text, ok, item_id = row
                entry = _Found(f"{label}{text}", bool(ok), item_id)  # 一是…
            else:
                oid, name, ok = row
                entry = _Found(name, bool(ok))
            found[(object_type, oid)] = entry
    return found


def _url(object_type: str, oid: int, item_id: int | None, auditor: bool) -> str | None:
    """Where the viewer reads an object it may read: auditors their workspace's pages."""
    if object_type == "item":
        return url_for("auditing.item_history" if auditor else "inspections.item", item_id=oid)
    if object_type == "inspection":
        return url_for("inspections.inspection", inspection_id=oid)
    if object_type == "category":
        return url_for("versions.history", kind="category", object_id=oid)
    if object_type == "measure":
        if auditor or item_id is None:
            return url_for("versions.history", kind="measure", object_id=oid)
        return url_for("inspections.item", item_id=item_id)
    return None


def _audit_name(event: AuditEvent) -> str:
    payload = _payload(event)
    if event.object_id == "export":
        return {"csv": "CSV", "jsonl": "JSON Lines"}.get(payload.get("format"), "")
    if event.object_id == "verify":
        scope = str(payload.get("scope", ""))
        return _("Everything") if scope == "all" else scope.replace("inspection:", _("Inspection") + " ")
    return ""


def entries(events: Iterable[AuditEvent], everyone: Iterable[Person], viewer, auditor: bool) -> list[Entry]:
    """The register's lines for `events` (one page), with names looked up per object type."""
    events = list(events)
    by_id = {p.id: p for p in everyone}
    ids_by_type: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.object_id.isdigit() and e.object_type != "user":
            ids_by_type[e.object_type].add(int(e.object_id))
    found = _lookups(ids_by_type, viewer)
    lines = []
    for e in events:
        kind = object_label(e.object_type)
        name, url = "", None
        if e.object_type == "user" and e.object_id.isdigit() and int(e.object_id) in by_id:
            name = by_id[int(e.object_id)].name
        elif e.object_type == "login":
            name = e.object_id
        elif e.object_type == "audit":
            name = _audit_name(e)
        elif e.object_id.isdigit() and (e.object_type, int(e.object_id)) in found:
            stored = found[(e.object_type, int(e.object_id))]
            name = stored.name
            if stored.readable:
                url = _url(e.object_type, int(e.object_id), stored.item_id, auditor)
        if not name and e.object_type != "audit":
            name = _name_from_payload(e) or f"#{e.object_id}"
        automatic = e.action.startswith(("workflow.", "moderation.")) and _payload(e).get("automatic") is True
        lines.append(
            Entry(e, actor_name(e, by_id), action_label(e.action), ObjectName(kind, name, url), automatic)
        )
    return lines
