"""The background worker's entry point: `huey_consumer portal.worker.huey` (or `make worker`).

It builds the app from the environment, as the web process does, and declares the periodic
tasks; each runs inside an application context. Beside the web app on the top floor.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from huey import crontab

from portal import create_app
from portal.auditing.checkpoints import signed_checkpoint
from portal.supervision.cli import supervise
from portal.supervision.warnings import pass_completed

app = create_app()
huey = app.extensions["rectify.queue"]  # with the mail delivery task (portal.core.mail) declared
deliver_mail = app.extensions["rectify.deliver_mail"]


def every_minutes(minutes: int):
    """A schedule for Huey's periodic tasks: each time the minute of the day is a multiple."""

    def due(moment) -> bool:
        return (moment.hour * 60 + moment.minute) % minutes == 0

    return due


@huey.task()
def write_checkpoint() -> str:
    """Sign the chain's head (see `flask audit checkpoint`); the file's path."""
    with app.app_context():
        path, _checkpoint = signed_checkpoint()
        return str(path)


@huey.periodic_task(every_minutes(app.config["AUDIT_CHECKPOINT_EVERY_MINUTES"]))
def periodic_checkpoint() -> None:
    write_checkpoint.call_local()


@huey.periodic_task(crontab())
def minutely_mail_delivery() -> None:
    """Send what the outbox holds: mail the web process could not hand to the queue (Redis
    away), and attempts due again after a failure."""
    deliver_mail.call_local()


@huey.task(retries=3, retry_delay=300)
def supervision_pass(day: str | None = None) -> dict[str, int]:
    """One supervision pass (see `flask supervise run`); warnings issued per level, and the
    items moved into their follow-up check (`follow_up`). An error (the database away, say) is
    retried three times, five minutes apart."""
    with app.app_context():
        result = supervise(date.fromisoformat(day) if day else None)
        return {**result.issued, "follow_up": result.follow_ups}


def pass_due(now: datetime) -> date | None:
    """The local day whose pass is due at `now` (aware): from SUPERVISION_HOUR_UTC on that day,
    as long as no pass of that day has committed; else None."""
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    local = now.astimezone(zone)
    hour = datetime(2000, 1, 1, app.config["SUPERVISION_HOUR_UTC"], tzinfo=UTC).astimezone(zone).hour
    if local.hour < hour or pass_completed(local.date()):
        return None
    return local.date()


@huey.task()
def catch_up_supervision(now: str | None = None) -> dict[str, int]:
    """Run the day's pass if it is due and has not completed: what it did, or {} when nothing
    was due (Huey keeps no result of None).

    This is how a pass that never finished is retried: a worker killed mid-pass (or a machine
    down at the hour) commits nothing, so the next hour's catch-up runs the whole pass, and a
    pass issues each warning once whatever happened before.
    """
    with app.app_context():
        day = pass_due(datetime.fromisoformat(now) if now else datetime.now(UTC))
    return {} if day is None else supervision_pass.call_local(day.isoformat())


@huey.periodic_task(crontab(minute="0"))
def hourly_supervision_catch_up() -> None:
    catch_up_supervision.call_local()
