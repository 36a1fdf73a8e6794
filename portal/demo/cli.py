"""`flask demo load`: one account per role, with demo passwords printed."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal.accounts.cli import department_by_name
from portal.accounts.operations import create_user, find_user
from portal.audit.chain import Actor
from portal.extensions import db

demo_cli = AppGroup("demo", help="Demo content for local use.")

#: login, display name, department, roles. The password is f"{login}-demo-2026".
DEMO_ACCOUNTS = (
    ("admin", "系统管理员", "办公室", ("admin",)),
    ("office", "王芳（巡察整改办）", "办公室", ("office",)),
    ("leader", "刘明（党组书记）", "局党组", ("leader",)),
    ("staff", "李强（经办人）", "财务科", ("staff",)),
    ("auditor", "陈静（纪检监察）", "纪检监察组", ("auditor",)),
)


def demo_password(login: str) -> str:
    return f"{login}-demo-2026"


def load_demo() -> list[tuple[str, str, bool]]:
    """Create the demo accounts that are missing; return (login, password, created) rows."""
    actor = Actor.system("demo")
    rows = []
    for login, name, department, roles in DEMO_ACCOUNTS:
        created = find_user(login) is None
        if created:
            create_user(actor, login=login, display_name=name, password=demo_password(login),
                        department=department_by_name(actor, department), roles=roles)
        rows.append((login, demo_password(login), created))
    return rows


@demo_cli.command("load")
def load_command():
    """Create the demo accounts (idempotent)."""
    if not current_app.config["DEMO_ALLOWED"]:
        raise click.ClickException("demo data is refused under the production configuration")
    rows = load_demo()
    db.session.commit()
    click.echo("Demo accounts (login / password):")
    for login, password, created in rows:
        click.echo(f"  {login:<8} / {password}{'' if created else '   (already there)'}")
