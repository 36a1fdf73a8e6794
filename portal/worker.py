"""The background worker's entry point: `huey_consumer portal.worker.huey` (or `make worker`).

It builds the app from the environment, as the web process does, and declares the periodic
tasks; each runs inside an application context. Beside the web app on the top floor.
"""

from __future__ import annotations

from huey import crontab

from portal import create_app
from portal.auditing.checkpoints import signed_checkpoint
from portal.core.queue import make_queue
from portal.supervision.cli import supervise

app = create_app()
huey = make_queue(app.config)


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


@huey.task()
def supervision_pass(day: str | None = None) -> dict[str, int]:
    """One supervision pass (see `flask supervise run`); warnings issued per level, and the
    items moved into their follow-up check (`follow_up`)."""
    from datetime import date

    with app.app_context():
        result = supervise(date.fromisoformat(day) if day else None)
        return {**result.issued, "follow_up": result.follow_ups}


@huey.periodic_task(crontab(minute="0", hour=str(app.config["SUPERVISION_HOUR_UTC"])))
def daily_supervision_pass() -> None:
    supervision_pass.call_local()
