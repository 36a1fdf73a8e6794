"""`flask notice parse FILE [--json]` and `flask notice import FILE`: FILE is .txt, .docx or .pdf
(with a text layer), read by portal.notices.formats."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.accounts.cli import cli_actor
from portal.accounts.operations import find_user
from portal.audit.chain import Actor
from portal.core.errors import OperationError
from portal.core.extensions import db
from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
from portal.notices.formats import notice_text
from portal.notices.forms import NOTICE_MAX_CHARS
from portal.notices.operations import AlreadyImported, import_notice, notice_states
from portal.notices.parser import ParsedNotice, parse
from portal.notices.status import status_hints
from portal.notices.text import NoticeInputError
from workflows.rectification import RECTIFICATION

notice_cli = AppGroup("notice", help="Parse and import rectification notices (整改情况通报).")


def _read(path: str) -> tuple[str, ParsedNotice]:
    try:
        text = notice_text(Path(path).read_bytes(), path)
    except (OSError, NoticeInputError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    return text, parse(text)


@notice_cli.command("parse")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the parsed tree and warnings as JSON.")
def parse_command(file: str, as_json: bool) -> None:
    """Parse FILE and show what would be imported; saves nothing."""
    _text, parsed = _read(file)
    if as_json:
        click.echo(json.dumps(parsed.to_json(), ensure_ascii=False, indent=1))
        return
    click.echo(parsed.title)
    for category in parsed.categories:
        click.echo(f"  {category.label} {category.title}")
        for problem in category.problems:
            labels = "、".join(m.ordinal for m in problem.measures if m.label) or "-"
            click.echo(
                f"    {problem.number}. {problem.title}  [{labels}]"
                f"{'  due ' + problem.deadline.isoformat() if problem.deadline else ''}"
                f"{'  ' + problem.status if problem.status else ''}"
            )
            for sub in problem.sub_problems:
                sub_labels = "、".join(m.ordinal for m in sub.measures if m.label) or "-"
                click.echo(f"      ({sub.number}) {sub.title}  [{sub_labels}]")
    for warning in parsed.warnings:
        click.echo(f"warning: {warning}", err=True)


@notice_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dual", is_flag=True, help="双审制: the responsible leader and the party secretary.")
@click.option("--secretary", help="Login name of the party secretary (党组书记).")
@click.option(
    "--office",
    "office_login",
    help="Login name of an office account to import as: the items then start in the state the "
    "notice states (已完成, 整改中), each step citing its line; without it every item starts 已交办.",
)
def import_command(file: str, dual: bool, secretary: str | None, office_login: str | None) -> None:
    """Import FILE as a new inspection (refused if the same text was imported before)."""
    text, parsed = _read(file)
    if len(text) > NOTICE_MAX_CHARS:  # the web import's limit (and the database's)
        raise click.ClickException(
            f"{file}: the notice is too long ({len(text):,} characters): at most "
            f"{NOTICE_MAX_CHARS:,} characters can be imported; nothing was imported"
        )
    secretary_user = find_user(secretary) if secretary else None
    if secretary and secretary_user is None:
        raise click.ClickException(f"no account with login name {secretary!r}")
    if dual and secretary_user is None:
        raise click.ClickException("--dual needs --secretary")
    office = find_user(office_login) if office_login else None
    if office_login and (office is None or "office" not in office.roles):
        raise click.ClickException(f"no office account with login name {office_login!r}")
    hints = status_hints(parsed, text)
    try:
        inspection = import_notice(
            Actor.of(office) if office else cli_actor(),
            parsed,
            text,
            approval_policy=APPROVAL_DUAL if dual else APPROVAL_SINGLE,
            party_secretary=secretary_user,
            states=notice_states(parsed, hints) if office else None,
            hints=hints,
        )
        db.session.commit()
    except AlreadyImported as exc:
        db.session.rollback()
        raise click.ClickException(
            f"already imported as inspection {exc.inspection.id}: {exc.inspection.title} "
            "(the same text, line endings and spacing aside); nothing was imported"
        ) from exc
    except OperationError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(
        f"imported inspection {inspection.id}: {len(parsed.problems)} items in "
        f"{len(parsed.categories)} categories"
    )
    stated = [hint.state for hint in hints.values() if hint.state != RECTIFICATION.initial]
    if stated and office is None:
        click.echo(
            f"note: the notice states {len(stated)} items as completed or under way; they start "
            "as assigned (pass --office LOGIN to apply what the notice states)",
            err=True,
        )
    for warning in parsed.warnings:
        click.echo(f"warning: {warning}", err=True)
