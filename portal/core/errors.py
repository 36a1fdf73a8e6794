"""Error pages in the user's language, never a traceback."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try "
                                "again.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page or do this.")),
    404: (_l("Page not found"), _l("The page does not exist or has been moved.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    409: (_l("Conflict"), _l("Someone else changed this in the meantime. Reload the page to see "
                             "the current state, then try again.")),
    413: (_l("File too large"), _l("The upload exceeds the size limit.")),
    429: (_l("Too many requests"), _l("Too many requests in a short time. Please wait a moment "
                                      "and try again.")),
    500: (_l("Server error"), _l("Something went wrong on our side. The error has been logged; "
                                 "please try again later.")),
}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    return render_template("error.html", code=code, title=title, message=message,
                           detail=detail), code


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return render_error(400, str(_l("The form has expired or lacks its security token. "
                                         "Reload the page and submit it again.")))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return render_error(exc.code)

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):
        app.logger.exception("unhandled error", exc_info=exc)
        return render_error(InternalServerError.code)
