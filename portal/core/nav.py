"""The navigation menu, declared once; each entry names the global roles that see it."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_login import current_user


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object
    roles: frozenset[str] | None  # None: every signed-in user


NAV = (
    NavEntry("core.home", _l("Home"), None),
    NavEntry("accounts.users", _l("Users"), frozenset({"admin"})),
    NavEntry("accounts.departments", _l("Departments"), frozenset({"admin", "office"})),
    NavEntry("audit.events", _l("Audit log"), frozenset({"auditor"})),
    NavEntry("workflow.workflows", _l("Workflows"),
             frozenset({"admin", "office", "leader", "staff", "auditor"})),
)


def nav_for_current_user() -> list[NavEntry]:
    if not current_user.is_authenticated:
        return []
    return [e for e in NAV if e.roles is None or current_user.has_role(*e.roles)]
