"""Users, their global roles, departments, server-side login sessions and second factors."""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core.extensions import db
from portal.core.models import max_lengths

#: Global roles, in the order menus and forms list them.
ROLES = ("admin", "office", "leader", "staff", "auditor")


@functools.cache
def _dummy_hash() -> str:
    """A hash to compare against when the login name is unknown, so that timing does not tell;
    made on first use, not at import (scrypt would add 80 ms to every command's start-up)."""
    return generate_password_hash("not-a-real-password", method="scrypt")


class Department(db.Model):
    """责任部门: a responsible department."""

    __tablename__ = "departments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())

    users: so.WriteOnlyMapped[User] = so.relationship(back_populates="department")

    def __str__(self) -> str:
        return self.name


class User(UserMixin, db.Model):
    """An account that signs in. Deactivated accounts keep their history."""

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    login: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    department_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True, server_default=sa.true())
    #: whether notifications (portal.notifications) also go out by e-mail
    email_notifications: so.Mapped[bool] = so.mapped_column(
        sa.Boolean, default=True, server_default=sa.true()
    )
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())

    department: so.Mapped[Department | None] = so.relationship(back_populates="users")
    role_rows: so.Mapped[list[UserRole]] = so.relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in inactive users
        return self.active

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.login}>"


def check_password_for(user: User | None, password: str) -> bool:
    """Check `password` against `user`, spending the same time when there is no such user."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password)


class UserRole(db.Model):
    """One global role held by one user."""

    __tablename__ = "user_roles"
    __table_args__ = (sa.CheckConstraint(sa.column("role").in_(ROLES), name="known_role"),)

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)

    user: so.Mapped[User] = so.relationship(back_populates="role_rows")


class LoginSession(db.Model):
    """A server-side record of one sign-in; the cookie holds only a random token for it.

    Logging out or deactivating the account ends the record, so a replayed cookie is useless.
    The table stores the token's SHA-256, never the token itself.
    """

    __tablename__ = "login_sessions"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    ended_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
    end_reason: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    remote_addr: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    #: when the user last typed their password again in this session (sensitive admin
    #: actions need it within REAUTH_MINUTES); never at sign-in itself
    reauth_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())

    user: so.Mapped[User] = so.relationship()


class TotpCredential(db.Model):
    """A user's TOTP authenticator (RFC 6238): in effect once confirmed with a valid code.

    A row without `confirmed_at` is an enrolment in progress; starting again replaces its
    secret. `last_step` is the time step of the last code accepted, so that a code is good for
    one sign-in only (no replay inside its window).
    """

    __tablename__ = "totp_credentials"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())
    last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)


class RecoveryCode(db.Model):
    """One one-time recovery code (恢复码), stored as a salted slow hash; shown once."""

    __tablename__ = "recovery_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    used_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())


def active_users_with(role: str) -> list[User]:
    """Active accounts holding the global `role`, by display name (for choices and mail)."""
    return db.session.scalars(
        sa.select(User)
        .join(UserRole)
        .where(UserRole.role == role, User.active.is_(True))
        .order_by(User.display_name, User.id)
    ).all()


class ApiToken(db.Model):
    """A personal access token for the REST API (`Authorization: Bearer …`), shown once.

    The table keeps the token's SHA-256 and its first characters (to tell tokens apart on the
    account page), never the token. A token reads only (`read`) or reads and writes (`write`)
    as its owner, until it expires or is revoked.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.CheckConstraint(sa.column("scope").in_(("read", "write")), name="known_scope"),
        *max_lengths(name=60),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    prefix: so.Mapped[str] = so.mapped_column(sa.String(12))
    scope: so.Mapped[str] = so.mapped_column(sa.String(10))
    created_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    expires_at: so.Mapped[datetime] = so.mapped_column(sa.DateTime())
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(sa.DateTime())

    user: so.Mapped[User] = so.relationship()
