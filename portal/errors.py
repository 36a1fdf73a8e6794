"""Errors that operations raise for the user to read."""


class OperationError(Exception):
    """A refused operation; `message` is shown to the user as it is (already translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
