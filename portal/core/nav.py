"""The navigation menu, declared once; each entry names the global roles that see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflows.roles import GLOBAL_ROLES

INTERNAL = frozenset(GLOBAL_ROLES)


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object
    roles: frozenset[str] | None  # None: every signed-in user
    args: dict = field(default_factory=dict, hash=False)
    count: str | None = None  # name of a worklist whose count is shown as a badge

    @property
    def key(self) -> str:
        return self.args.get("name", self.endpoint)


NAV = (
    NavEntry("core.home", _l("Home"), None),
    NavEntry("documents.inspections", _l("Inspections"), INTERNAL),
    NavEntry("workflow.worklist", _l("Awaiting my review"), frozenset({"leader"}),
             {"name": "awaiting_review"}, "awaiting_review"),
    NavEntry("workflow.worklist", _l("My items"), frozenset({"staff", "leader"}),
             {"name": "my_items"}, "my_items"),
    NavEntry("workflow.worklist", _l("Overdue"), frozenset({"office", "leader", "staff", "auditor"}),
             {"name": "overdue"}, "overdue"),
    NavEntry("feedback.queue", _l("Feedback"), frozenset({"office"}), {}, "feedback"),
    NavEntry("feedback.queue", _l("Feedback"), frozenset({"auditor"})),  # all states, read-only
    NavEntry("accounts.users", _l("Users"), frozenset({"admin"})),
    NavEntry("accounts.departments", _l("Departments"), frozenset({"admin", "office"})),
    NavEntry("audit.events", _l("Audit log"), frozenset({"auditor"})),
    NavEntry("audit.verification", _l("Verification"), frozenset({"auditor"})),
    NavEntry("workflow.workflows", _l("Workflows"), INTERNAL),
)


def nav_for_current_user() -> list[NavEntry]:
    if not current_user.is_authenticated:
        return []
    return [e for e in NAV if e.roles is None or current_user.has_role(*e.roles)]


def nav_counts() -> dict[str, int]:
    """Worklist badge counts for the current user, computed once per request."""
    if not current_user.is_authenticated:
        return {}
    if "nav_counts" not in g:
        from portal.timeutil import today
        from portal.workflow import worklists

        g.nav_counts = worklists.counts(current_user, today())
        if current_user.has_role("office"):
            import sqlalchemy as sa

            from portal.extensions import db
            from portal.feedback.models import Feedback

            g.nav_counts["feedback"] = db.session.scalar(sa.select(sa.func.count()).where(
                Feedback.moderation_state == "pending"))
    return g.nav_counts
