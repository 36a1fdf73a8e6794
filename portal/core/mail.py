"""E-mail through an outbox: `queue_mail` writes the messages in the caller's transaction, the
task queue sends them (``SMTP_HOST``; none: no mail).

After the commit, the web process asks the queue to deliver at once; the worker also drains the
outbox every minute. So a mail server, or a Redis that holds the queue, being away only delays
the mail: the rows wait, and the next delivery (the next write's, or the next minute's) sends
everything due. A failed attempt is tried again later, with a growing pause, up to
`MAIL_MAX_ATTEMPTS`. Each delivery that sent or gave up on something is one `mail.deliver` audit
event naming the rows. A row is claimed before it is sent, so two workers never send it twice;
a worker killed between sending and recording sends that message again after its lease
(at least once, never lost).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Sequence
from datetime import timedelta
from email.message import EmailMessage

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.audit.chain import Actor, record_event, utcnow
from portal.core.extensions import db
from portal.core.models import OutgoingMail
from portal.core.transitions import run_after_commit

#: how long a claimed row is left to its worker before another may try it
LEASE = timedelta(minutes=5)
#: rows claimed per round of a delivery
BATCH = 100
#: the extension under which the app keeps its "deliver now" call (set by `declare_delivery`)
_DELIVER_NOW = "rectify.deliver_mail"


def mail_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def queue_mail(recipients: Sequence[str], subject: str, body: str) -> int:
    """Put one message per address in the outbox, in the current transaction; after its commit,
    ask the queue to deliver. Nothing when SMTP is not configured. How many were queued."""
    addresses = [a for a in dict.fromkeys(recipients) if a]
    if not mail_configured() or not addresses:
        return 0
    now = utcnow()
    db.session.add_all(
        OutgoingMail(recipient=a, subject=subject, body=body, created_at=now, next_attempt_at=now)
        for a in addresses
    )
    run_after_commit(deliver_soon)
    return len(addresses)


def deliver_soon() -> None:
    """Ask the task queue to deliver now; never raises (the worker's minutely drain sends what
    this could not hand over, a queue that is away included)."""
    deliver = current_app.extensions.get(_DELIVER_NOW)
    if deliver is None:
        return
    try:
        deliver()
    except Exception:  # noqa: BLE001  (the queue's storage away: the rows wait for the drain)
        current_app.logger.warning("could not hand the outbox to the task queue; the worker will send it")


def _pause(attempts: int) -> timedelta:
    """After the n-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _due(now, limit: int):
    """Unsent, not given up, and not before its time (nor claimed by another worker)."""
    return sa.and_(
        OutgoingMail.sent_at.is_(None), OutgoingMail.attempts < limit, OutgoingMail.next_attempt_at <= now
    )


def _claim(now, limit: int) -> list[OutgoingMail]:
    """Claim up to BATCH due rows (their lease starts now) and commit the claims."""
    due = db.session.scalars(
        sa.select(OutgoingMail.id).where(_due(now, limit)).order_by(OutgoingMail.id).limit(BATCH)
    ).all()
    claimed = []
    for mail_id in due:
        won = db.session.execute(
            sa.update(OutgoingMail)
            .where(OutgoingMail.id == mail_id, _due(now, limit))
            .values(next_attempt_at=now + LEASE, attempts=OutgoingMail.attempts + 1)
        ).rowcount
        if won:
            claimed.append(mail_id)
    db.session.commit()
    return db.session.scalars(
        sa.select(OutgoingMail).where(OutgoingMail.id.in_(claimed)).order_by(OutgoingMail.id)
    ).all()


def _message(row: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = current_app.config["SMTP_FROM"]
    message["To"] = row.recipient
    message.set_content(row.body)
    return message


def _send(rows: list[OutgoingMail]) -> dict[int, str]:
    """Send the rows over one SMTP connection; the error of each that did not go out."""
    config = current_app.config
    errors: dict[int, str] = {}
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            for row in rows:
                try:
                    smtp.send_message(_message(row))
                except smtplib.SMTPRecipientsRefused as exc:
                    errors[row.id] = f"refused: {exc}"[:300]
    except (OSError, smtplib.SMTPException) as exc:
        sent = set(errors)
        errors.update({r.id: f"{type(exc).__name__}: {exc}"[:300] for r in rows if r.id not in sent})
    return errors


def deliver_pending() -> dict[str, int]:
    """Send every due message of the outbox (in rounds of BATCH): how many were sent, will be
    tried again, and were given up. Runs in the worker (or `flask mail deliver`)."""
    totals = {"sent": 0, "retry": 0, "given_up": 0}
    if not mail_configured():
        return totals
    limit = current_app.config["MAIL_MAX_ATTEMPTS"]
    while rows := _claim(utcnow(), limit):
        errors = _send(rows)
        now = utcnow()
        sent, given_up = [], []
        for row in rows:
            if row.id not in errors:
                row.sent_at, row.last_error = now, ""
                sent.append(row.id)
                continue
            row.last_error = errors[row.id]
            if row.attempts >= limit:  # kept with its error, never tried again
                given_up.append(row.id)
            else:
                row.next_attempt_at = now + _pause(row.attempts)
                current_app.logger.warning(
                    "mail %d not sent (%s); trying again later", row.id, errors[row.id]
                )
        if sent or given_up:
            record_event(
                Actor.system("mail"), "mail.deliver", "mail", None, {"sent": sent, "given_up": given_up}
            )
        db.session.commit()
        totals["sent"] += len(sent)
        totals["given_up"] += len(given_up)
        totals["retry"] += len(rows) - len(sent) - len(given_up)
        if len(rows) - len(sent) - len(given_up):
            break  # the server is failing now: the rest waits for the next delivery
    return totals


def declare_delivery(app: Flask, queue) -> Callable[[], object]:
    """Declare the delivery task on the app's task queue; the app's "deliver now" call.

    The web process enqueues it after each commit that queued mail; the worker runs it (the
    same task, declared the same way on its own copy of the app)."""

    @queue.task()
    def deliver_mail() -> dict[str, int]:
        with app.app_context():
            return deliver_pending()

    app.extensions[_DELIVER_NOW] = deliver_mail
    return deliver_mail


mail_cli = AppGroup("mail", help="The e-mail outbox.")


@mail_cli.command("deliver")
def deliver_command():
    """Send what the outbox holds now (the worker does this every minute)."""
    totals = deliver_pending()
    click.echo(f"sent {totals['sent']}, to try again {totals['retry']}, given up {totals['given_up']}")


@mail_cli.command("status")
def status_command():
    """Count the messages waiting, sent and given up."""
    limit = current_app.config["MAIL_MAX_ATTEMPTS"]
    unsent = OutgoingMail.sent_at.is_(None)
    counts = {
        "waiting": sa.and_(unsent, OutgoingMail.attempts < limit),
        "given up": sa.and_(unsent, OutgoingMail.attempts >= limit),
        "sent": OutgoingMail.sent_at.is_not(None),
    }
    for label, where in counts.items():
        click.echo(f"{label}: {db.session.scalar(sa.select(sa.func.count()).where(where))}")
