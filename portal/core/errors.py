"""The one exception tree of refused operations, and how each reaches the user.

Operations raise these; the one handler (portal.core.handlers) turns them into responses:
NotAllowed → 403, NotFound → 404, Conflict → 409, Invalid (and any other OperationError) → 400.
Where a form was posted, the view registers how to show it again with the user's input
(`portal.core.handlers.keep_input`), so a refusal never loses what was typed.
"""

from __future__ import annotations


class OperationError(Exception):
    """A refused operation; `message` is shown to the user as it is (already translated)."""

    status = 400

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class Invalid(OperationError):
    """The input cannot be accepted as it is (HTTP 400)."""


class MissingRequirements(Invalid):
    """A transition needs input the user did not give.

    `missing` maps what is missing ("comment", "evidence", "completion_summary") to a message.
    """

    def __init__(self, missing: dict[str, str]):
        super().__init__(" ".join(missing.values()))
        self.missing = missing


class NotAllowed(OperationError):
    """The user may not do this (HTTP 403)."""

    status = 403


class NotFound(OperationError):
    """No such object, or one the user may not even know about (HTTP 404)."""

    status = 404


class Conflict(OperationError):
    """The object changed since the user loaded it (HTTP 409)."""

    status = 409
