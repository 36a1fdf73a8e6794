"""Signing in and out: login attempts, the second step, re-authentication, login sessions.

Failed attempts are audit events; the delays that follow them are computed from them
(portal/accounts/throttle.py: a delay that grows per account and address, never a lock, and a
limit per address). Unknown login names are treated exactly like known ones, so the answers do
not reveal which accounts exist.

An account with an authenticator (portal/accounts/mfa.py) is not signed in by its password:
the password step opens no session, and the second step (a TOTP code or a recovery code) must
follow within MFA_PENDING_SECONDS. A session ends when signed out, when the account is
deactivated or its password or second factor reset, after the idle timeout (the signed
cookie's age, PERMANENT_SESSION_LIFETIME) and, however busy, ABSOLUTE_SESSION_LIFETIME after
sign-in (the server's record).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from portal.accounts import mfa, throttle
from portal.accounts.models import LoginSession, User, check_password_for
from portal.accounts.operations import find_user, normalize_login
from portal.audit.chain import Actor, record_event, utcnow
from portal.core.extensions import db

LOGIN_OK, LOGIN_INVALID, LOGIN_LOCKED, LOGIN_INACTIVE = "ok", "invalid", "locked", "inactive"
#: the password was right; the second step must follow
LOGIN_MFA = "mfa"
#: too many failures from this address over every account
LOGIN_ADDRESS_LIMITED = "address_limited"
#: a right code of a time step already used
LOGIN_REPLAYED = "replayed"
#: the second step came too late, or its account is gone
LOGIN_EXPIRED = "expired"


@dataclass
class LoginOutcome:
    status: str
    user: User | None = None
    token: str | None = None
    retry_seconds: int = 0
    #: how the second step was passed: "totp" or "recovery_code"
    method: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _subject(login: str, user: User | None) -> tuple[str, str]:
    """The audit object a login attempt is about: the account, or the name typed."""
    return ("user", str(user.id)) if user else ("login", login)


def _open_session(user: User, now: datetime, remote_addr: str | None, user_agent: str | None) -> str:
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
    return token


def _throttled(
    actor: Actor, subject, details: dict, now: datetime, action: str = "auth.login_refused"
) -> LoginOutcome | None:
    """The refusal when `subject` or the address must wait, audited; None when they may try."""
    wait = throttle.address_wait(details.get("remote_addr"))
    status, reason = LOGIN_ADDRESS_LIMITED, "address_limit"
    if not wait:
        wait = throttle.account_wait(subject, details.get("remote_addr"), now)
        status, reason = LOGIN_LOCKED, "delayed"
    if not wait:
        return None
    record_event(actor, action, *subject, {**details, "reason": reason, "wait_seconds": wait})
    return LoginOutcome(status, retry_seconds=wait)


def attempt_login(
    login: str,
    password: str,
    *,
    remote_addr: str | None,
    user_agent: str | None,
) -> LoginOutcome:
    """Check a password step, audit it, and open a login session when no second step follows."""
    login = normalize_login(login)
    user = find_user(login)
    subject = _subject(login, user)
    actor = Actor.of(user) if user else Actor.anonymous()
    details = {"login": login, "remote_addr": remote_addr}
    now = utcnow()

    refused = _throttled(actor, subject, details, now)
    if refused is not None:
        return refused
    if not check_password_for(user, password):
        record_event(actor, "auth.login_failed", *subject, {**details, "reason": "bad_credentials"})
        throttle.count_address_failure(remote_addr)
        return LoginOutcome(LOGIN_INVALID)
    if not user.active:
        record_event(actor, "auth.login_refused", *subject, {**details, "reason": "inactive"})
        return LoginOutcome(LOGIN_INACTIVE)
    if mfa.enrolled(user):
        record_event(actor, "auth.mfa_challenge", *subject, details)
        return LoginOutcome(LOGIN_MFA, user=user)

    token = _open_session(user, now, remote_addr, user_agent)
    record_event(actor, "auth.login", *subject, details)
    return LoginOutcome(LOGIN_OK, user=user, token=token)


def second_step_expired(started_at: datetime) -> bool:
    return utcnow() - started_at > timedelta(seconds=current_app.config["MFA_PENDING_SECONDS"])


def attempt_second_step(
    user_id: int,
    code: str,
    *,
    started_at: datetime,
    remote_addr: str | None,
    user_agent: str | None,
) -> LoginOutcome:
    """Check the second step of a sign-in whose password step passed at `started_at`."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or second_step_expired(started_at):
        return LoginOutcome(LOGIN_EXPIRED)
    subject = _subject(user.login, user)
    actor = Actor.of(user)
    details = {"login": user.login, "remote_addr": remote_addr}
    now = utcnow()

    refused = _throttled(actor, subject, details, now)
    if refused is not None:
        return refused
    method, replayed = None, False
    row = mfa.credential(user)
    if row is not None and row.confirmed_at is not None and mfa.looks_like_totp(code):
        step, replayed = mfa.match_step(row.secret, code, now, row.last_step)
        if step is not None:
            row.last_step, method = step, "totp"
    elif row is not None and row.confirmed_at is not None:
        recovery = mfa.find_recovery_code(user, code)
        if recovery is not None:
            recovery.used_at, method = now, "recovery_code"
    if method is None:
        reason = "replayed_code" if replayed else "bad_code"
        record_event(actor, "auth.mfa_failed", *subject, {**details, "reason": reason})
        throttle.count_address_failure(remote_addr)
        return LoginOutcome(LOGIN_REPLAYED if replayed else LOGIN_INVALID)

    token = _open_session(user, now, remote_addr, user_agent)
    extra = {"mfa": method}
    if method == "recovery_code":
        extra["recovery_codes_left"] = len(mfa.unused_recovery_codes(user))
    record_event(actor, "auth.login", *subject, {**details, **extra})
    return LoginOutcome(LOGIN_OK, user=user, token=token, method=method)


def current_session_row(token: str | None) -> LoginSession | None:
    return db.session.get(LoginSession, hash_token(token)) if token else None


def reauth_fresh(token: str | None) -> bool:
    """Whether the password was typed again in this session within REAUTH_MINUTES."""
    row = current_session_row(token)
    if row is None or row.reauth_at is None:
        return False
    return utcnow() - row.reauth_at < timedelta(minutes=current_app.config["REAUTH_MINUTES"])


def reauthenticate(user: User, token: str | None, password: str, remote_addr: str | None) -> LoginOutcome:
    """Check the password typed again before a sensitive action; mark the session fresh."""
    subject = _subject(user.login, user)
    actor = Actor.of(user)
    details = {"login": user.login, "remote_addr": remote_addr}
    now = utcnow()
    row = current_session_row(token)
    refused = _throttled(actor, subject, details, now, action="auth.reauth_refused")
    if refused is not None:
        return refused
    if row is None or not user.check_password(password or ""):
        record_event(actor, "auth.reauth_failed", *subject, details)
        throttle.count_address_failure(remote_addr)
        return LoginOutcome(LOGIN_INVALID)
    row.reauth_at = now
    db.session.flush()
    record_event(actor, "auth.reauth", *subject, details)
    return LoginOutcome(LOGIN_OK, user=user)


def session_user(user_id: str, token: str | None) -> User | None:
    """Return the user of an open login session, or None for an ended or forged one."""
    if not token:
        return None
    # the session, its user and the user's roles in one statement: every signed-in request asks
    row = (
        db.session.scalars(
            sa.select(LoginSession)
            .where(LoginSession.id == hash_token(token))
            .options(so.joinedload(LoginSession.user).joinedload(User.role_rows))
        )
        .unique()
        .first()
    )
    if row is None or row.ended_at is not None or str(row.user_id) != user_id:
        return None
    if utcnow() - row.created_at > current_app.config["ABSOLUTE_SESSION_LIFETIME"]:
        return None  # past its absolute lifetime (nothing is written: a GET writes nothing)
    return row.user if row.user.active else None


def logout(user: User, token: str | None) -> None:
    """End the login session behind `token`."""
    row = db.session.get(LoginSession, hash_token(token)) if token else None
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = utcnow(), "logout"
        db.session.flush()
    record_event(Actor.of(user), "auth.logout", "user", user.id, {"login": user.login})
