"""The one handler: refusals and errors become pages in the user's language, never a traceback.

Operations raise the exceptions of portal.core.errors; this module maps them to responses
(NotAllowed → 403, NotFound → 404, Conflict → 409, any other refusal → 400), rolling the
transaction back first. A view that handles a posted form calls `keep_input` with a function
that renders the form again with the user's input and the refusal's message, so nothing typed
is lost; without one, the error page shows the message.

The database's own refusals are refusals too (`database_refusal`): a value it cannot store
(PostgreSQL's NUL, a number or text too large, a CHECK constraint) is a 400, a lost race it
detects (a unique key taken meanwhile, a deadlock, a serialization failure, SQLite's busy
lock) is a 409. Forms and operations check first; this is the net under them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from flask import Flask, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.core.errors import Conflict, Invalid, OperationError
from portal.core.extensions import db, login_manager

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
    503: (
        _l("The database cannot be reached"),
        _l(
            "The portal cannot reach its database at the moment. Nothing of this request was "
            "saved. Please try again in a minute; if it lasts, tell the administrator."
        ),
    ),
    500: (
        _l("Server error"),
        _l("Something went wrong on our side. The error has been logged; please try again later."),
    ),
}


#: What a value the database refuses to store is, to the user.
NOT_STORABLE = _l(
    "Something you entered cannot be stored: a text or a number that is too long or too large, "
    "or an invisible control character. Check what you entered and try again."
)
#: SQLSTATEs of a lost race (PostgreSQL): serialization failure, deadlock.
_RACE_STATES = ("40001", "40P01")


def database_refusal(exc: sa_exc.DBAPIError) -> OperationError | None:
    """The refusal a database error stands for (400 or 409), or None for a fault of ours."""
    state = getattr(exc.orig, "sqlstate", None) or ""
    text = str(exc.orig)
    if isinstance(exc, sa_exc.DataError):
        return Invalid(str(NOT_STORABLE))
    if isinstance(exc, sa_exc.IntegrityError):
        if state == "23514" or "CHECK constraint failed" in text:
            return Invalid(str(NOT_STORABLE))
        if state == "23505" or "UNIQUE constraint failed" in text:
            return Conflict(str(MESSAGES[409][1]))
        return None
    if isinstance(exc, sa_exc.OperationalError) and (state in _RACE_STATES or "database is locked" in text):
        return Conflict(str(MESSAGES[409][1]))
    return None


def database_unreachable(exc: sa_exc.DBAPIError) -> bool:
    """Is `exc` the database being out of reach (down, restarted, its file gone), rather than
    a refusal of what was asked?"""
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    state = getattr(exc.orig, "sqlstate", None) or ""
    text = str(exc.orig).lower()
    # 08: connection exceptions; 57P01-57P03: admin/crash shutdown, cannot connect now
    return state.startswith("08") or state in ("57P01", "57P02", "57P03") or "unable to open database" in text


#: plone.restapi's error types, by status, for the API's JSON errors
API_ERROR_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "RequestEntityTooLarge",
    422: "ValidationError",
    429: "TooManyRequests",
}


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def render_error(code: int, detail: str | None = None, errors: dict | None = None):
    title, message = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    if is_api_request():
        # JSON, as plone.restapi answers: {"type", "message"} (and what was invalid, by field)
        body = {"type": API_ERROR_TYPES.get(code, "InternalServerError" if code >= 500 else "BadRequest")}
        body["message"] = detail or str(message)
        if errors:
            body["errors"] = errors
        response = jsonify(body)
        response.status_code = code
        if code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="rectify"'
        return response
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
        if exc.status in (403, 404) and not getattr(exc, "explained", False):
            # say no more than a missing page or a refusal would
            app.logger.info("refused with %s: %s", exc.status, exc)
            return render_error(exc.status)
        render = g.pop("rectify_keep_input", None)
        if render is not None and request.method == "POST" and exc.status in (400, 409):
            return render(exc)
        return render_error(exc.status, exc.message or None, errors=getattr(exc, "missing", None))

    @app.errorhandler(sa_exc.DBAPIError)
    def database_error(exc: sa_exc.DBAPIError):
        if database_unreachable(exc):
            app.logger.error("the database cannot be reached: %s", exc.orig)
            _discard_session()
            # A page of its own: the usual one asks the database for the menu and the user
            # (Flask-Login's template context loads the user unless one is set for the request).
            g._login_user = login_manager.anonymous_user()
            title, message = MESSAGES[503]
            page = render_template("error_unavailable.html", code=503, title=title, message=message)
            return page, 503, {"Retry-After": "60", "Cache-Control": "no-store"}
        db.session.rollback()
        refusal = database_refusal(exc)
        if refusal is None:
            return unhandled(exc)
        app.logger.warning("the database refused a request: %s", exc.orig)
        return refused(refusal)

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
        # flask-smorest's validation (422) carries what was wrong with each argument
        errors = (getattr(exc, "data", None) or {}).get("messages")
        return render_error(exc.code, errors=errors)

    @app.errorhandler(Exception)
    def unhandled(exc: Exception):
        app.logger.exception("unhandled error", exc_info=exc)
        db.session.rollback()  # the error page's own queries need a usable session
        return render_error(InternalServerError.code)


def _discard_session() -> None:
    """Forget the session's transaction and connection, whatever state the database left them in."""
    with contextlib.suppress(sa_exc.DBAPIError):
        db.session.rollback()
    db.session.remove()
