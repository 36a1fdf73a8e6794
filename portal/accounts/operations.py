"""Operations on accounts and departments. Each writes its audit event, flushes, never commits."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts.models import ROLES, Department, LoginSession, User, UserRole
from portal.audit.chain import Actor, record_event, utcnow
from portal.core.errors import OperationError
from portal.core.extensions import db


def normalize_login(login: str) -> str:
    return login.strip().lower()


def find_user(login: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.login == normalize_login(login)))


def _department_name(department: Department | None) -> str | None:
    return department.name if department else None


def create_department(actor: Actor, name: str) -> Department:
    """Create a department (责任部门)."""
    name = name.strip()
    if db.session.scalar(sa.select(Department.id).where(Department.name == name)) is not None:
        raise OperationError(_("A department named “%(name)s” already exists.", name=name))
    department = Department(name=name, created_at=utcnow())
    db.session.add(department)
    db.session.flush()
    record_event(actor, "department.create", "department", department.id, {"name": name})
    return department


def _checked_roles(roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise OperationError(_("Unknown role: %(roles)s.", roles=", ".join(unknown)))
    return roles


def create_user(
    actor: Actor,
    *,
    login: str,
    display_name: str,
    password: str,
    email: str | None = None,
    department: Department | None = None,
    roles: Iterable[str] = (),
) -> User:
    """Create an active account with the given global roles."""
    login = normalize_login(login)
    if find_user(login) is not None:
        raise OperationError(_("The login name “%(login)s” is already taken.", login=login))
    roles = _checked_roles(roles)
    user = User(
        login=login,
        display_name=display_name.strip(),
        email=email or None,
        department=department,
        active=True,
        created_at=utcnow(),
    )
    user.set_password(password)
    user.role_rows = [UserRole(role=r) for r in roles]
    db.session.add(user)
    db.session.flush()
    record_event(
        actor,
        "user.create",
        "user",
        user.id,
        {
            "login": login,
            "display_name": user.display_name,
            "email": user.email,
            "department": _department_name(department),
            "roles": roles,
            "active": True,
        },
    )
    return user


def update_user(
    actor: Actor, user: User, *, display_name: str, email: str | None, department: Department | None
) -> dict:
    """Change profile fields; record only what changed, as before/after."""
    before = {
        "display_name": user.display_name,
        "email": user.email,
        "department": _department_name(user.department),
    }
    user.display_name = display_name.strip()
    user.email = email or None
    user.department = department
    after = {
        "display_name": user.display_name,
        "email": user.email,
        "department": _department_name(department),
    }
    changes = {k: {"before": before[k], "after": after[k]} for k in before if before[k] != after[k]}
    if changes:
        db.session.flush()
        record_event(actor, "user.update", "user", user.id, {"login": user.login, "changes": changes})
    return changes


def _other_active_admins(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .join(UserRole)
        .where(UserRole.role == "admin", User.active.is_(True), User.id != user.id)
    )


def set_roles(actor: Actor, user: User, roles: Iterable[str]) -> None:
    """Replace the user's global roles."""
    roles = _checked_roles(roles)
    before = sorted(user.roles)
    if before == roles:
        return
    if "admin" in before and "admin" not in roles and user.active and not _other_active_admins(user):
        raise OperationError(_("At least one active administrator must remain."))
    user.role_rows = [row for row in user.role_rows if row.role in roles] + [
        UserRole(role=r) for r in roles if r not in before
    ]
    db.session.flush()
    record_event(
        actor, "user.set_roles", "user", user.id, {"login": user.login, "before": before, "after": roles}
    )


def end_sessions(user: User, reason: str, except_id: str | None = None) -> int:
    """End the user's open login sessions (all but `except_id`); return how many ended."""
    stmt = (
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    if except_id is not None:
        stmt = stmt.where(LoginSession.id != except_id)
    return db.session.execute(stmt).rowcount


def deactivate_user(actor: Actor, user: User) -> None:
    """Deactivate an account and end its sessions; its history stays."""
    if not user.active:
        return
    if actor.id == user.id:
        raise OperationError(_("You cannot deactivate your own account."))
    if "admin" in user.roles and not _other_active_admins(user):
        raise OperationError(_("At least one active administrator must remain."))
    user.active = False
    ended = end_sessions(user, "deactivated")
    db.session.flush()
    record_event(actor, "user.deactivate", "user", user.id, {"login": user.login, "sessions_ended": ended})


def reactivate_user(actor: Actor, user: User) -> None:
    if user.active:
        return
    user.active = True
    db.session.flush()
    record_event(actor, "user.reactivate", "user", user.id, {"login": user.login})


def set_password(actor: Actor, user: User, password: str, keep_session_id: str | None = None) -> None:
    """Set a new password and end the user's other sessions. The hash never enters the log."""
    user.set_password(password)
    ended = end_sessions(user, "password_changed", except_id=keep_session_id)
    db.session.flush()
    record_event(
        actor,
        "user.set_password",
        "user",
        user.id,
        {"login": user.login, "by_self": actor.id == user.id, "sessions_ended": ended},
    )
