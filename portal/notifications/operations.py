"""Notifying people, reading notifications, the e-mail preference and chase notes (催办).

`notify` writes its rows and one audit event in the caller's transaction; the e-mails it
queues go out only once that transaction has committed (portal.core.transitions).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.accounts.models import User, UserRole
from portal.audit.chain import Actor, Event, record_event, record_events, utcnow
from portal.core.bulk import insert_many
from portal.core.errors import Invalid, NotAllowed
from portal.core.extensions import db
from portal.core.mail import mail_configured, queue_mail
from portal.core.policy import can, is_signed_in, roles_on, suspension
from portal.notifications.kinds import KINDS, kind_label, quote_of, render_message
from portal.notifications.models import CHASE_MAX_LENGTH, ItemChase, Notification
from workflows.rectification import OPEN as OPEN_STATES

MAIL_SUBJECT = "【巡察整改督办平台】%s"


@dataclass(frozen=True)
class HoldersOf:
    """Every active account holding the global `role` (the office, say), as a recipient: the
    batch looks them up once, not once per notification."""

    role: str


def _user_ids(users: Iterable) -> list[int]:
    ids = []
    for user in users:
        if isinstance(user, HoldersOf):
            continue
        user_id = getattr(user, "id", user)
        if user_id is not None and user_id not in ids:
            ids.append(user_id)
    return ids


def _actor_name(actor: Actor | None) -> str:
    if actor is None or actor.id is None:
        return ""
    user = actor.user or db.session.get(User, actor.id)
    return user.display_name if user is not None else actor.name


@dataclass
class _Pending:
    """One notify() call waiting to be written."""

    ids: list[int]
    roles: frozenset[str]
    kind: str
    item: object
    obj: object
    actor: Actor | None
    params: dict


#: the notifications of an open batch (see `batched`), or None when none is open
_batch: ContextVar[list[_Pending] | None] = ContextVar("notification_batch", default=None)


def notify(
    users: Iterable, kind: str, item=None, *, actor: Actor | None = None, obj=None, **params
) -> list[Notification]:
    """Tell `users` (accounts, ids or `HoldersOf(role)`; the actor and inactive accounts are left out) about
    `kind` on `item`; `obj` is another object it is about. `params` fill the kind's message
    (the item's title, number and the actor's name are added). Flush, never commit.

    Return the rows written, or [] inside `batched()`, which writes them when it closes.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    users = list(users)
    ids = [i for i in _user_ids(users) if actor is None or i != actor.id]
    if item is not None:
        params = {"title": item.title, "number": item.number, **params}
    roles = frozenset(u.role for u in users if isinstance(u, HoldersOf))
    pending = _Pending(ids, roles, kind, item, obj, actor, params)
    batch = _batch.get()
    if batch is not None:
        batch.append(pending)
        return []
    return _write([pending])


@contextmanager
def batched():
    """Collect the notifications sent inside the block and write them all at its end: one
    query for the recipients and one bulk INSERT instead of a pair per call, with the same
    rows, audit events and e-mails (the supervision pass sends thousands). Nothing is written
    if the block raises. Not nested: an inner block joins the outer one."""
    if _batch.get() is not None:
        yield
        return
    token = _batch.set([])
    try:
        yield
        pending = _batch.get()
    finally:
        _batch.reset(token)
    _write(pending)


def _write(pending: list[_Pending]) -> list[Notification]:
    """Write the notifications, one audit event per notify() call, and queue the e-mails."""
    holders: dict[str, set[int]] = {}
    roles = {r for p in pending for r in p.roles}
    if roles:
        for user_id, role in db.session.execute(
            sa.select(UserRole.user_id, UserRole.role).where(UserRole.role.in_(roles))
        ):
            holders.setdefault(role, set()).add(user_id)
    for p in pending:
        if p.roles:
            actor_id = p.actor.id if p.actor is not None else None
            p.ids = [*p.ids, *(i for r in p.roles for i in holders.get(r, ()) if i != actor_id)]
    wanted = {i for p in pending for i in p.ids}
    if not wanted:
        return []
    users = {
        row.id: row
        for row in db.session.execute(
            sa.select(User.id, User.email, User.email_notifications).where(User.id.in_(wanted), User.active)
        )
    }
    mail_on, now, names = mail_configured(), utcnow(), {}
    rows, owners = [], []
    for n, p in enumerate(pending):
        recipients = sorted(i for i in set(p.ids) if i in users)
        if not recipients:
            continue
        actor_id = p.actor.id if p.actor is not None else None
        if actor_id not in names:
            names[actor_id] = _actor_name(p.actor)
        p.params.setdefault("actor", names[actor_id])
        for user_id in recipients:
            rows.append(
                {
                    "user_id": user_id,
                    "kind": p.kind,
                    "item_id": getattr(p.item, "id", None),
                    "object_type": type(p.obj).__tablename__ if p.obj is not None else "",
                    "object_id": getattr(p.obj, "id", None),
                    "actor_id": actor_id,
                    "params": p.params,
                    "created_at": now,
                }
            )
            owners.append(n)
    if not rows:
        return []
    # (ids only: a batch of the supervision pass writes tens of thousands of rows, and ORM
    # objects for them would cost more than the INSERT)
    ids = insert_many(Notification.__table__, rows)
    by_call: dict[int, list[tuple[int, int]]] = {}
    for n, row, note_id in zip(owners, rows, ids, strict=True):
        by_call.setdefault(n, []).append((note_id, row["user_id"]))
    events: list[Event] = []
    for n, notes in by_call.items():
        p = pending[n]
        mailed = [users[user_id] for _id, user_id in notes] if mail_on else []
        mailed = [u for u in mailed if u.email_notifications and u.email]
        events.append(
            Event(
                "notification.send",
                "item" if p.item is not None else "notification",
                p.item.id if p.item is not None else notes[0][0],
                {
                    "kind": p.kind,
                    "user_ids": [user_id for _id, user_id in notes],
                    "notification_ids": [note_id for note_id, _user in notes],
                    "mailed_user_ids": [u.id for u in mailed],
                    "params": p.params,
                },
                inspection_id=getattr(p.item, "inspection_id", None),
                actor=p.actor,
            )
        )
        if mailed:
            _queue_mail([u.email for u in mailed], p.kind, p.params, getattr(p.item, "id", None))
    record_events(Actor.system("notifications"), events)
    if len(pending) > 1:
        return []
    return db.session.scalars(
        sa.select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)
    ).all()


def _queue_mail(addresses: list[str], kind: str, params: dict, item_id: int | None) -> None:
    """Compose now (in the portal's default language), into the outbox: one per person, sent by
    the task queue once the transaction commits."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = MAIL_SUBJECT % kind_label(kind)
        lines = [render_message(kind, params)]
        if quote_of(kind, params):
            lines.append(f"“{quote_of(kind, params)}”")
        if params.get("actor"):
            lines.append(_("From: %(name)s", name=params["actor"]))
        lines.append("")
        if item_id is not None and (has_request_context() or current_app.config.get("SERVER_NAME")):
            lines.append(url_for("inspections.item", item_id=item_id, _external=True))
        else:
            lines.append(_("Sign in to the portal to see it."))
        lines += ["", _("You can turn these e-mails off on your account page.")]
    queue_mail(addresses, subject, "\n".join(lines))


def notify_assigned(actor: Actor, item) -> list[Notification]:
    """Tell an item's responsible staff that it is theirs now (created so, or changed to)."""
    return notify([item.staff_id], "assigned", item, actor=actor)


# --- reading ----------------------------------------------------------------------------------


def unread_count(user) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_read(actor: Actor, notification: Notification) -> bool:
    """Mark one of the actor's own notifications read; return whether it was unread."""
    if notification.user_id != actor.id:
        raise NotAllowed()
    if notification.read_at is not None:
        return False
    notification.read_at = utcnow()
    db.session.flush()
    record_event(
        actor,
        "notification.read",
        "notification",
        notification.id,
        {"kind": notification.kind, "item_id": notification.item_id},
    )
    return True


def mark_all_read(actor: Actor) -> int:
    """Mark every unread notification of the actor read; return how many there were."""
    ids = db.session.scalars(
        sa.select(Notification.id)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .order_by(Notification.id)
    ).all()
    if not ids:
        return 0
    db.session.execute(
        sa.update(Notification)
        .where(Notification.id.in_(ids))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    record_event(actor, "notification.read_all", "user", actor.id, {"notification_ids": ids})
    return len(ids)


def set_email_preference(actor: Actor, user: User, wanted: bool) -> bool:
    """Turn the user's notification e-mails on or off; return whether it changed."""
    if user.email_notifications == wanted:
        return False
    user.email_notifications = wanted
    db.session.flush()
    record_event(actor, "user.email_notifications", "user", user.id, {"before": not wanted, "after": wanted})
    return True


# --- 催办 -------------------------------------------------------------------------------------

#: Local roles that may chase an item they see: its responsible leader (分管领导) and, under
#: 双审制, the party secretary (党组书记); the office (巡察办) chases any item it sees.
CHASING_ROLES = frozenset({"office", "ResponsibleLeader", "PartySecretary"})


def may_chase(user, item) -> bool:
    """Whether `user` may send a chase note on `item`: an open, active item they see, as the
    office, its responsible leader or its inspection's party secretary."""
    if not is_signed_in(user) or item.state not in OPEN_STATES or suspension(item) is not None:
        return False
    if not can(user, "view", item):
        return False
    secretary = user.has_role("leader") and item.inspection.party_secretary_id == user.id
    return secretary or not roles_on(user, item).isdisjoint(CHASING_ROLES)


def chase_item(actor: Actor, item, text: str) -> ItemChase:
    """Record a chase note on `item` and notify its staff and its responsible leader (the
    sender is not told about their own note). Flush, never commit."""
    if not may_chase(actor.user, item):
        raise NotAllowed(
            _("Only the office, the responsible leader or the party secretary can chase an open item.")
        )
    text = (text or "").strip()
    if not text:
        raise Invalid(_("Write what you are chasing for."))
    if len(text) > CHASE_MAX_LENGTH:
        raise Invalid(_("A chase note can be at most %(max)d characters long.", max=CHASE_MAX_LENGTH))
    chase = ItemChase(item_id=item.id, actor_id=actor.id, text=text, created_at=utcnow())
    db.session.add(chase)
    db.session.flush()
    record_event(
        actor,
        "item.chase",
        "item",
        item.id,
        {"chase_id": chase.id, "text": text},
        inspection_id=item.inspection_id,
    )
    notify([item.staff_id, item.responsible_leader_id], "chase", item, actor=actor, obj=chase, text=text)
    return chase
