"""Who is calling the API: the owner of the personal access token in `Authorization: Bearer`,
or nobody (the public).

The API never reads the session cookie: a browser's session cannot be used from another site
to write through the API (no CSRF), and a token is the only way in. Each request is the token
owner's own: the same policy, the same permission filters and the same operations as their
pages, so the audit events are the same as the web's.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import current_app, g, request
from flask_babel import gettext as _

from portal.accounts.tokens import user_for
from portal.core.errors import NotAllowed


class Unauthorized(NotAllowed):
    """No usable token where one is needed (HTTP 401, with a WWW-Authenticate challenge)."""

    status = 401


class ReadOnlyToken(NotAllowed):
    """A read-only token used to write (HTTP 403, and the reason said: it tells nothing about
    any object)."""

    explained = True


def authenticate() -> None:
    """Before each API request: the token's owner becomes the current user, or the public.
    A token that is presented but not good is refused at once, even on a public endpoint."""
    g.api_token = None
    user = current_app.login_manager.anonymous_user()
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _space, token = header.partition(" ")
        found = user_for(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise Unauthorized(_("The token is not valid: unknown, revoked or expired."))
        user, g.api_token = found
    g._login_user = user  # Flask-Login's current user for this request, the cookie unread


def signed_in(view):
    """The endpoint needs a token (401 without one)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("api_token") is None:
            raise Unauthorized(_("This endpoint needs a personal access token."))
        return view(*args, **kwargs)

    wrapper.api_signed_in = True
    return wrapper


def writes(view):
    """The endpoint writes: it needs a token of the write scope (403 for a read-only one)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = g.get("api_token")
        if token is None:
            raise Unauthorized(_("This endpoint needs a personal access token."))
        if token.scope != "write":
            raise ReadOnlyToken(_("This token may only read."))
        return view(*args, **kwargs)

    wrapper.api_signed_in = True
    return wrapper


def rate_key() -> str:
    """What the API's rate limit counts by: the token presented (its hash), else the client's
    address. (The limit is checked before the token is looked up.)"""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return f"api-ip:{request.remote_addr}"
