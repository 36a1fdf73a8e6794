"""What many views do the same way: show form errors as messages, run one operation."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from portal.core.errors import OperationError
from portal.core.extensions import db


def flash_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "danger")


def attempt(operation: Callable[[], object], success: str, category: str = "success") -> bool:
    """Run an operation and commit; an input refusal (400) is rolled back and shown as a message.

    Return success. Other refusals (403, 404, 409) go on to the one handler.
    """
    try:
        operation()
        db.session.commit()
    except OperationError as exc:
        if exc.status != 400:
            raise
        db.session.rollback()
        flash(exc.message, "danger")
        return False
    flash(success, category)
    return True
