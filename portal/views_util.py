"""What many views do the same way: show form errors as messages, run one operation."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from portal.errors import OperationError
from portal.extensions import db


def flash_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "danger")


def attempt(operation: Callable[[], object], success: str, category: str = "success") -> bool:
    """Run an operation and commit; a refusal is rolled back and shown. Return success."""
    try:
        operation()
        db.session.commit()
    except OperationError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return False
    flash(success, category)
    return True
