"""Personal access tokens for the REST API: created (shown once), revoked, and looked up.

A token is `rfy_` and 40 random characters. The database keeps its SHA-256, so a copy of the
database does not let anyone in; a token is checked by that hash alone (a lookup by unique
index: no timing leak of a comparison). Creating and revoking are operations with their audit
events (a request made with a token is the owner's: its writes are audited as theirs).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import ApiToken, User
from portal.audit.chain import Actor, record_event, utcnow
from portal.core.errors import NotFound, OperationError
from portal.core.extensions import db

PREFIX = "rfy_"
SCOPES = ("read", "write")
#: how long a token may be made to last, in days (the form offers a few choices up to it)
MAX_DAYS = 365
#: tokens a user may hold at once (revoked and expired ones do not count)
MAX_TOKENS = 10
NAME_MAX_LENGTH = 60


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    row: ApiToken
    #: the token itself: shown to its owner this once, never stored
    secret: str


def live(user: User) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    now = utcnow()
    return db.session.scalars(
        sa.select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .order_by(ApiToken.id.desc())
    ).all()


def create_token(actor: Actor, user: User, name: str, scope: str, days: int) -> NewToken:
    """A new token for `user`. Raises OperationError with the reason."""
    name = " ".join((name or "").split())
    if not name:
        raise OperationError(_("Give the token a name, to tell it apart later."))
    if len(name) > NAME_MAX_LENGTH:
        raise OperationError(_("The name may have at most %(n)d characters.", n=NAME_MAX_LENGTH))
    if scope not in SCOPES:
        raise OperationError(_("Choose whether the token may only read or also write."))
    if not 1 <= days <= MAX_DAYS:
        raise OperationError(_("A token lasts from 1 to %(n)d days.", n=MAX_DAYS))
    if len(live(user)) >= MAX_TOKENS:
        raise OperationError(_("You can hold at most %(n)d tokens; revoke one first.", n=MAX_TOKENS))
    secret = PREFIX + secrets.token_urlsafe(30)
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(secret),
        prefix=secret[: len(PREFIX) + 4],
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(row)
    db.session.flush()
    record_event(
        actor,
        "token.created",
        "api_token",
        row.id,
        {"user_id": user.id, "name": name, "scope": scope, "expires_at": row.expires_at.isoformat()},
    )
    return NewToken(row, secret)


def revoke_token(actor: Actor, user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s tokens (another's is not found; revoking twice changes nothing)."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_("No such token."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_event(actor, "token.revoked", "api_token", row.id, {"user_id": user.id, "name": row.name})
    return row


def user_for(token: str) -> tuple[User, ApiToken] | None:
    """The active user a presented token stands for, and the token; None for anything else
    (unknown, revoked, expired, or an account that is no longer active)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row.user, row
