"""The navigation menu, declared once; each entry names the global roles that see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.core import worklists
from portal.core.cache import request_memo
from portal.core.security import INTERNAL
from portal.core.timeutil import today
from portal.notifications.operations import unread_count


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
    NavEntry("shell.home", _l("Home"), None),
    NavEntry("inspections.inspections", _l("Inspections"), frozenset(INTERNAL)),
    NavEntry(
        "supervision.dashboard", _l("Dashboard"), frozenset({"office", "leader", "auditor"})
    ),  # 督办驾驶舱
    NavEntry(
        "workflow.worklist",
        _l("Awaiting my review"),
        frozenset({"leader"}),
        {"name": "awaiting_review"},
        "awaiting_review",
    ),
    NavEntry(
        "workflow.worklist", _l("My items"), frozenset({"staff", "leader"}), {"name": "my_items"}, "my_items"
    ),
    NavEntry(
        "workflow.worklist",
        _l("Overdue"),
        frozenset({"office", "leader", "staff", "auditor"}),
        {"name": "overdue"},
        "overdue",
    ),
    NavEntry(
        "workflow.worklist",
        _l("Extension requests"),
        frozenset({"office", "leader"}),
        {"name": "extensions_to_decide"},
        "extensions_to_decide",
    ),
    NavEntry("feedback.queue", _l("Feedback"), frozenset({"office"}), {}, "moderation_queue"),
    NavEntry("feedback.queue", _l("Feedback"), frozenset({"auditor"})),  # all states, read-only
    NavEntry("accounts.users", _l("Users"), frozenset({"admin"})),
    NavEntry("accounts.departments", _l("Departments"), frozenset({"admin", "office"})),
    NavEntry("auditing.events", _l("Audit log"), frozenset({"auditor", "leader"})),  # leaders read
    NavEntry("auditing.verification", _l("Verification"), frozenset({"auditor"})),
    NavEntry("workflow.workflows", _l("Workflows"), frozenset(INTERNAL)),
)


def nav_for_current_user() -> list[NavEntry]:
    if not current_user.is_authenticated:
        return []
    return [e for e in NAV if e.roles is None or current_user.has_role(*e.roles)]


def nav_counts() -> dict[str, int]:
    """Worklist badge counts for the current user's menu (each asked once per request and kept
    for this state of the data: worklists.count)."""
    if not current_user.is_authenticated:
        return {}
    names = [e.count for e in nav_for_current_user() if e.count]
    return worklists.counts(current_user, today(), names)


def unread_notifications() -> int:
    """The bell's count for the current user: one COUNT per request."""
    if not current_user.is_authenticated:
        return 0
    memo = request_memo()
    if memo is None:
        return unread_count(current_user)
    if "unread_notifications" not in memo:
        memo["unread_notifications"] = unread_count(current_user)
    return memo["unread_notifications"]
