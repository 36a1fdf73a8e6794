"""Access checks shared by the views: role requirements and safe redirect targets."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import abort
from flask_login import current_user, login_required

from workflows.roles import GLOBAL_ROLES

#: Every account with a global role: the internal pages' audience.
INTERNAL = GLOBAL_ROLES


def has_role(*roles: str) -> bool:
    return current_user.is_authenticated and current_user.has_role(*roles)


def roles_required(*roles: str):
    """Require a signed-in user holding any of `roles`; others get 403."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(roles)
        return wrapper

    return decorator


def safe_next(target: str | None, default: str) -> str:
    """Return `target` if it is a path on this site, else `default` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target
