"""The one handler: refusals and errors become pages in the user's language, never a traceback.

Operations raise the exceptions of portal.core.errors; this module maps them to responses
(NotAllowed → 403, NotFound → 404, Conflict → 409, any other refusal → 400), rolling the
transaction back first. A view that handles a posted form calls `keep_input` with a function
that renders the form again with the user's input and the refusal's message, so nothing typed
is lost; without one, the error page shows the message.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.core.errors import OperationError
from portal.core.extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page or do this.")),
    404: (_l("Page not found"), _l("The page does not exist or has been moved.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    409: (
        _l("Conflict"),
        _l(
            "Someone else changed this in the meantime. Reload the page to see "
            "the current state, then try again."
        ),
    ),
    413: (_l("File too large"), _l("The upload exceeds the size limit.")),
    429: (
        _l("Too many requests"),
        _l("Too many requests in a short time. Please wait a moment and try again."),
    ),
    500: (
        _l("Server error"),
        _l("Something went wrong on our side. The error has been logged; please try again later."),
    ),
}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    return render_template("error.html", code=code, title=title, message=message, detail=detail), code


def keep_input(render: Callable[[OperationError], object]) -> None:
    """Where a form was posted: how to show it again, with its input, when it is refused
    as invalid (400) or as changed meanwhile (409). Not allowed and not found get error pages.

    `render(exc)` returns the response; `exc.status` is the status it should carry.
    """
    g.rectify_keep_input = render


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(OperationError)
    def refused(exc: OperationError):
        db.session.rollback()
        if exc.status in (403, 404):  # say no more than a missing page or a refusal would
            app.logger.info("refused with %s: %s", exc.status, exc)
            return render_error(exc.status)
        render = g.pop("rectify_keep_input", None)
        if render is not None and request.method == "POST" and exc.status in (400, 409):
            return render(exc)
        return render_error(exc.status, exc.message or None)

    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return render_error(
            400,
            str(_l("The form has expired or lacks its security token. Reload the page and submit it again.")),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return render_error(exc.code)

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):
        app.logger.exception("unhandled error", exc_info=exc)
        db.session.rollback()  # the error page's own queries need a usable session
        return render_error(InternalServerError.code)
