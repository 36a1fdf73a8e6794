"""HTTP caching of the anonymous public pages (ETag and Last-Modified with 304) and a cache of
rendered pages, the public ones and each signed-in user's own, kept in Redis when REDIS_URL is
set (Flask-Caching, as portal.core.cache).

A public page changes only with the data (and with the day: a deadline passes). Every write
goes through an operation that records its audit event in the same transaction, so the audit
chain's head names the state of the data: an entity tag made of the head, the day, the
language and the URL changes with any committed write that could change the page, and with
nothing else. A write thus invalidates every cached page at once, without any write path having
to know which pages it changes; older entries are never read again and expire.

- A browser that sends the current tag back (If-None-Match) gets 304 before anything is
  rendered; Cache-Control says to ask each time (no-cache), so nobody sees a stale page.
- Another visitor's request is served from the cached page. The CSRF token each page carries
  (the language form, the meta tag, the “is it fixed?” form) is the visitor's own: the cached
  body holds a placeholder in its place, filled in per request.
- Non-GET requests, pages showing a flashed message and answers other than 200 are never
  cached. A signed-in user's page (`private_page`) is kept for that user alone.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.core.cache import computed_once, data_head
from portal.core.policy import is_signed_in
from portal.core.timeutil import today

#: stands for the visitor's CSRF token in a cached body
CSRF_PLACEHOLDER = b"\x00csrf\x00"
#: how long a cached page may stay unread (a write makes it unreachable long before)
TIMEOUT_SECONDS = 10 * 60


def _cacheable() -> bool:
    return (
        request.method in ("GET", "HEAD") and not is_signed_in(current_user) and not session.get("_flashes")
    )


def public_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve an anonymous public page with an entity tag, from the page cache when it holds it."""

    @wraps(view)
    def cached_view(*args, **kwargs):
        if not _cacheable():
            return view(*args, **kwargs)
        seq, digest, at = data_head()
        tag = _tag(seq, digest, request.full_path)
        if tag in request.if_none_match:
            return _conditional(Response(status=304), tag, at)
        if not current_app.config["PUBLIC_PAGE_CACHE"]:  # tags and 304s, every page rendered
            response = make_response(view(*args, **kwargs))
            return _conditional(response, tag, at) if response.status_code == 200 else response
        response = _from_cache(("public-page", tag), view, args, kwargs)
        return _conditional(response, tag, at) if response.status_code == 200 else response

    return cached_view


def private_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a signed-in user's read page from the page cache when the data has not changed
    since it was last rendered for them (PRIVATE_PAGE_CACHE).

    The key adds the user to what a public page's tag holds: what a page shows a user depends
    on the data (their roles, grants and notifications included, all written through
    operations), the day, the language and the URL, and on nothing else but the session's CSRF
    token and flashed messages, handled as for public pages. It stays `no-store` for the browser
    (a signed-in page stays out of every cache outside the server), so there is no 304.
    Put it under the route's permission decorator: the checks run on every request.
    """

    @wraps(view)
    def cached_view(*args, **kwargs):
        if (
            not current_app.config["PRIVATE_PAGE_CACHE"]
            or request.method not in ("GET", "HEAD")
            or not current_user.is_authenticated
            or session.get("_flashes")
        ):
            return view(*args, **kwargs)
        seq, digest, _at = data_head()
        tag = _tag(seq, digest, request.full_path, f"user:{current_user.id}")
        return _from_cache(("private-page", tag), view, args, kwargs)

    return cached_view


def _tag(seq: int, digest: str, *more: str) -> str:
    basis = "|".join((str(seq), digest, today().isoformat(), str(get_locale()), *more))
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _from_cache(key: tuple, view: Callable[..., Any], args, kwargs) -> Response:
    """The page cached under `key` with this visitor's CSRF token put in, or the view's answer
    (kept when it is a page: 200, no flashed message). Bodies are kept compressed."""
    token = generate_csrf()
    fresh: list[Response] = []

    def render() -> tuple[bytes, str] | None:
        response = make_response(view(*args, **kwargs))
        fresh.append(response)
        if response.status_code != 200 or response.direct_passthrough or session.get("_flashes"):
            return None  # not a page to keep (a redirect, say)
        # bytes throughout: a cached page is never decoded (the dashboard's is 170 KiB)
        body = response.get_data().replace(token.encode(), CSRF_PLACEHOLDER)
        return zlib.compress(body, 1), response.mimetype

    stored = computed_once(key, render, timeout=TIMEOUT_SECONDS)
    if stored is None:
        return fresh[0] if fresh else make_response(view(*args, **kwargs))
    if fresh:  # rendered just now
        return fresh[0]
    body, mimetype = stored
    return Response(zlib.decompress(body).replace(CSRF_PLACEHOLDER, token.encode()), mimetype=mimetype)


def _conditional(response: Response, tag: str, at) -> Response:
    response.set_etag(tag)
    if at is not None:
        response.last_modified = at
    response.cache_control.no_cache = True
    response.vary.add("Cookie")  # (the language chosen is in the session)
    return response
