"""Signing in and out: login attempts, lockout after repeated failures, login sessions.

Failed attempts are audit events, and the lockout is computed from them: after
LOGIN_MAX_FAILURES failures for one login name inside LOGIN_FAILURE_WINDOW (counted since the
last successful login), further attempts are refused until the oldest of those failures leaves
the window. Unknown login names are treated exactly like known ones, so the answers do not
reveal which accounts exist.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.accounts.models import LoginSession, User, check_password_for
from portal.accounts.operations import find_user, normalize_login
from portal.audit.chain import Actor, record_event, utcnow
from portal.audit.models import AuditEvent
from portal.core.extensions import db

LOGIN_OK, LOGIN_INVALID, LOGIN_LOCKED, LOGIN_INACTIVE = "ok", "invalid", "locked", "inactive"


@dataclass
class LoginOutcome:
    status: str
    user: User | None = None
    token: str | None = None
    retry_minutes: int = 0


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _subject(login: str, user: User | None) -> tuple[str, str]:
    """The audit object a login attempt is about: the account, or the name typed."""
    return ("user", str(user.id)) if user else ("login", login)


def locked_until(
    subject: tuple[str, str], max_failures: int, window: timedelta, now: datetime
) -> datetime | None:
    """Return when the lockout of `subject` ends, or None when it is not locked."""
    otype, oid = subject
    about = (AuditEvent.object_type == otype, AuditEvent.object_id == oid)
    last_ok = db.session.scalar(
        sa.select(sa.func.max(AuditEvent.at)).where(*about, AuditEvent.action == "auth.login")
    )
    since = now - window if last_ok is None else max(now - window, last_ok)
    failures = db.session.scalars(
        sa.select(AuditEvent.at)
        .where(*about, AuditEvent.action == "auth.login_failed", AuditEvent.at > since)
        .order_by(AuditEvent.seq.desc())
        .limit(max_failures)
    ).all()
    if len(failures) < max_failures:
        return None
    until = min(failures) + window
    return until if until > now else None


def attempt_login(
    login: str,
    password: str,
    *,
    max_failures: int,
    window: timedelta,
    remote_addr: str | None,
    user_agent: str | None,
) -> LoginOutcome:
    """Check a login attempt, audit it, and open a login session when it succeeds."""
    login = normalize_login(login)
    user = find_user(login)
    subject = _subject(login, user)
    actor = Actor.of(user) if user else Actor.anonymous()
    details = {"login": login, "remote_addr": remote_addr}
    now = utcnow()

    until = locked_until(subject, max_failures, window, now)
    if until is not None:
        record_event(actor, "auth.login_refused", *subject, {**details, "reason": "locked"})
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        return LoginOutcome(LOGIN_LOCKED, retry_minutes=minutes)

    if not check_password_for(user, password):
        record_event(actor, "auth.login_failed", *subject, {**details, "reason": "bad_credentials"})
        return LoginOutcome(LOGIN_INVALID)
    if not user.active:
        record_event(actor, "auth.login_refused", *subject, {**details, "reason": "inactive"})
        return LoginOutcome(LOGIN_INACTIVE)

    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            id=hash_token(token),
            user_id=user.id,
            created_at=now,
            remote_addr=remote_addr,
            user_agent=(user_agent or "")[:255],
        )
    )
    db.session.flush()
    record_event(actor, "auth.login", *subject, details)
    return LoginOutcome(LOGIN_OK, user=user, token=token)


def session_user(user_id: str, token: str | None) -> User | None:
    """Return the user of an open login session, or None for an ended or forged one."""
    if not token:
        return None
    row = db.session.get(LoginSession, hash_token(token))
    if row is None or row.ended_at is not None or str(row.user_id) != user_id:
        return None
    return row.user if row.user.active else None


def logout(user: User, token: str | None) -> None:
    """End the login session behind `token`."""
    row = db.session.get(LoginSession, hash_token(token)) if token else None
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = utcnow(), "logout"
        db.session.flush()
    record_event(Actor.of(user), "auth.logout", "user", user.id, {"login": user.login})
