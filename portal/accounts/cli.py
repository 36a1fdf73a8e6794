"""`flask users create/list/set-roles/deactivate/reset-mfa`."""

from __future__ import annotations

import getpass

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from portal.accounts.models import ROLES, Department, User
from portal.accounts.operations import (
    create_department,
    create_user,
    deactivate_user,
    find_user,
    reset_mfa,
    set_roles,
)
from portal.accounts.passwords import password_problem
from portal.audit.chain import Actor
from portal.core.errors import OperationError
from portal.core.extensions import db

users_cli = AppGroup("users", help="Manage accounts and their global roles.")
ROLE_CHOICE = click.Choice(ROLES)


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system(f"cli:{who}")


def _get_user(login: str) -> User:
    user = find_user(login)
    if user is None:
        raise click.ClickException(f"no account with login name {login!r}")
    return user


def _commit_or_fail(action) -> None:
    try:
        action()
        db.session.commit()
    except OperationError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc


def department_by_name(actor: Actor, name: str | None) -> Department | None:
    """Return the department called `name`, creating it when missing."""
    if not name:
        return None
    department = db.session.scalar(sa.select(Department).where(Department.name == name.strip()))
    return department or create_department(actor, name)


@users_cli.command("create")
@click.argument("login")
@click.option("--name", "display_name", required=True, help="Display name, e.g. 张三.")
@click.option("--email", default=None)
@click.option("--department", default=None, help="Department name; created if missing.")
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="Repeat for several roles.")
@click.password_option("--password", help="Prompted for (twice) when not given.")
def create_command(login, display_name, email, department, roles, password):
    """Create an account."""

    problem = password_problem(password, (login.strip().lower(), display_name))
    if problem is not None:
        raise click.ClickException(str(problem))
    actor = cli_actor()

    def action():
        create_user(
            actor,
            login=login,
            display_name=display_name,
            password=password,
            email=email,
            department=department_by_name(actor, department),
            roles=roles,
        )

    _commit_or_fail(action)
    click.echo(f"created {login.strip().lower()} with roles: {', '.join(sorted(roles)) or '-'}")


@users_cli.command("list")
def list_command():
    """List accounts with their roles and state."""
    rows = db.session.scalars(sa.select(User).order_by(User.login)).all()
    for user in rows:
        state = "active" if user.active else "inactive"
        dept = user.department.name if user.department else "-"
        click.echo(
            f"{user.login:<20} {state:<8} {','.join(sorted(user.roles)) or '-':<28} "
            f"{dept:<16} {user.display_name}"
        )
    click.echo(f"{len(rows)} account(s)")


@users_cli.command("set-roles")
@click.argument("login")
@click.argument("roles", nargs=-1, type=ROLE_CHOICE)
def set_roles_command(login, roles):
    """Replace the global roles of LOGIN (give none to remove all)."""
    user = _get_user(login)
    _commit_or_fail(lambda: set_roles(cli_actor(), user, roles))
    click.echo(f"{user.login}: {', '.join(sorted(roles)) or 'no roles'}")


@users_cli.command("deactivate")
@click.argument("login")
def deactivate_command(login):
    """Deactivate LOGIN and end its sessions."""
    user = _get_user(login)
    _commit_or_fail(lambda: deactivate_user(cli_actor(), user))
    click.echo(f"{user.login} deactivated")


@users_cli.command("reset-mfa")
@click.argument("login")
def reset_mfa_command(login):
    """Remove LOGIN's authenticator and recovery codes and end its sessions (a lost phone);
    where its role requires two-step verification it enrols again at its next sign-in."""
    user = _get_user(login)
    _commit_or_fail(lambda: reset_mfa(cli_actor(), user))
    click.echo(f"{user.login}: two-step verification reset; sessions ended")
