"""Operations on accounts and departments. Each writes its audit event, flushes, never commits."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.accounts import mfa
from portal.accounts.models import (
    ROLES,
    Department,
    LoginSession,
    RecoveryCode,
    TotpCredential,
    User,
    UserRole,
)
from portal.accounts.passwords import password_problem
from portal.audit.chain import Actor, record_event, utcnow
from portal.core.errors import NotAllowed, OperationError
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


#: Roles no account may hold together (separation of duties): who administers the accounts
#: does not also audit what they did.
EXCLUSIVE_ROLES = (frozenset({"admin", "auditor"}),)


def _checked_roles(roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise OperationError(_("Unknown role: %(roles)s.", roles=", ".join(unknown)))
    if any(pair <= set(roles) for pair in EXCLUSIVE_ROLES):
        raise OperationError(
            _("The roles admin and auditor cannot be held by one account (separation of duties).")
        )
    return roles


def _checked_password(password: str, user_inputs: Iterable[str | None]) -> None:
    problem = password_problem(password, user_inputs)
    if problem is not None:
        raise OperationError(str(problem))


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
    _checked_password(password, (login, display_name))
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
    """Replace the user's global roles. Nobody changes their own (another admin, or the
    command line, does)."""
    roles = _checked_roles(roles)
    before = sorted(user.roles)
    if before == roles:
        return
    if actor.id is not None and actor.id == user.id:
        raise OperationError(_("You cannot change your own roles; another administrator can."))
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
    _checked_password(password, (user.login, user.display_name))
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


# --- two-step sign-in (portal.accounts.mfa) ---------------------------------------------------


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = mfa.new_recovery_codes()
    now = utcnow()
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=mfa.hash_recovery_code(code), created_at=now)
        for code in codes
    )
    return codes


def start_totp_enrolment(actor: Actor, user: User) -> TotpCredential:
    """Give the user a new secret to enrol (not in effect until confirmed with a code)."""
    row = mfa.credential(user)
    if row is not None and row.confirmed_at is not None:
        raise OperationError(_("Two-step verification is already on for this account."))
    if row is None:
        row = TotpCredential(user_id=user.id)
        db.session.add(row)
    row.secret, row.created_at, row.confirmed_at, row.last_step = mfa.new_secret(), utcnow(), None, None
    db.session.flush()
    record_event(
        actor, "user.mfa_enrolment_started", "user", user.id, {"login": user.login, "method": "totp"}
    )
    return row


def confirm_totp_enrolment(actor: Actor, user: User, code: str) -> list[str]:
    """Put the enrolment in effect once `code` is right; return the new recovery codes (the only
    time they are seen in clear)."""
    row = mfa.credential(user)
    if row is None or row.confirmed_at is not None:
        raise OperationError(_("Start the set-up first: there is no enrolment waiting for a code."))
    now = utcnow()
    step, _replayed = mfa.match_step(row.secret, code, now, row.last_step)
    if step is None:
        raise OperationError(_("The code is not right. Enter the 6 digits your authenticator app shows now."))
    row.confirmed_at, row.last_step = now, step
    codes = _replace_recovery_codes(user)
    db.session.flush()
    record_event(
        actor,
        "user.mfa_enrol",
        "user",
        user.id,
        {"login": user.login, "method": "totp", "recovery_codes": len(codes)},
    )
    return codes


def regenerate_recovery_codes(actor: Actor, user: User) -> list[str]:
    """New recovery codes in place of the old ones (all of which stop working)."""
    if not mfa.enrolled(user):
        raise OperationError(_("Two-step verification is not on for this account."))
    codes = _replace_recovery_codes(user)
    db.session.flush()
    record_event(
        actor, "user.mfa_recovery_codes", "user", user.id, {"login": user.login, "recovery_codes": len(codes)}
    )
    return codes


def _remove_second_factor(user: User) -> bool:
    had = mfa.credential(user) is not None
    db.session.execute(sa.delete(TotpCredential).where(TotpCredential.user_id == user.id))
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return had


def disable_mfa(actor: Actor, user: User) -> None:
    """Turn one's own two-step verification off, where one's roles do not require it."""
    if actor.id != user.id:
        raise NotAllowed(_("Only the account's owner can turn two-step verification off."))
    if mfa.required(user):
        raise OperationError(
            _(
                "Your role requires two-step verification; it cannot be turned off. An administrator "
                "can reset it if you lose your authenticator."
            )
        )
    if not _remove_second_factor(user):
        return
    db.session.flush()
    record_event(actor, "user.mfa_disable", "user", user.id, {"login": user.login})


def reset_mfa(actor: Actor, user: User) -> None:
    """An administrator's reset (a lost phone): the authenticator and recovery codes go, the
    account's sessions end, and it must enrol again at its next sign-in where its role requires."""
    if actor.id is not None and actor.id == user.id:
        raise OperationError(
            _(
                "You cannot reset your own two-step verification here; use your account page, or ask "
                "another administrator."
            )
        )
    had = _remove_second_factor(user)
    ended = end_sessions(user, "mfa_reset")
    db.session.flush()
    record_event(
        actor,
        "user.mfa_reset",
        "user",
        user.id,
        {"login": user.login, "had_totp": had, "sessions_ended": ended},
    )
