"""Throttling sign-in: a delay that grows instead of a lock, per account and per address.

Three limits, so that nobody can lock an account by failing on it, and nobody can guess for
long (OWASP ASVS 5.0, V6.3):

- **one account from one address**: failed attempts (a wrong password, a wrong second-step
  code, a wrong password re-entered before an admin action) are counted from the audit log
  since the account's last sign-in, inside LOGIN_FAILURE_WINDOW. The first LOGIN_MAX_FAILURES
  are free; after them each attempt waits LOGIN_DELAY_SECONDS after the last failure, doubled
  with every further failure, at most LOGIN_DELAY_MAX_MINUTES. An attacker's failures delay
  the attacker's address only: the account's owner, elsewhere, signs in at once;
- **one account from every address**: the same delay, after LOGIN_ACCOUNT_MAX_FAILURES, against
  guessing spread over many addresses (it delays, it never locks);
- **one address over every account** (password spraying): LOGIN_ADDRESS_LIMIT failures, kept
  by Flask-Limiter (shared by every worker in Redis when REDIS_URL is set).

Unknown login names are counted like real ones, so the answers do not tell which exist.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from limits import parse_many
from limits.storage import MemoryStorage

from portal.audit.models import AuditEvent
from portal.core.extensions import db, limiter

#: audit actions that count as a failed attempt on an account
FAILURES = ("auth.login_failed", "auth.mfa_failed", "auth.reauth_failed")
#: only a completed sign-in starts the count afresh
SUCCESS = "auth.login"
_SCOPE = "login-failures"
#: the most failures read per check; the delay reaches its cap long before
_READ_AT_MOST = 500


def growing_delay(failures: int, free: int, base_seconds: int, cap_seconds: int) -> int:
    """The wait after `failures` failures: none for the first `free`, then doubling, capped."""
    if failures < free:
        return 0
    return min(cap_seconds, base_seconds * 2 ** min(failures - free, 30))


def _address(payload: str) -> str | None:
    try:
        return json.loads(payload).get("remote_addr")
    except (ValueError, AttributeError):
        return None


def account_wait(subject: tuple[str, str], address: str | None, now: datetime) -> int:
    """Seconds until `subject` (an account, or a login name) may be tried again from `address`."""
    config = current_app.config
    otype, oid = subject
    about = (AuditEvent.object_type == otype, AuditEvent.object_id == oid)
    last_ok = db.session.scalar(
        sa.select(sa.func.max(AuditEvent.at)).where(*about, AuditEvent.action == SUCCESS)
    )
    since = now - config["LOGIN_FAILURE_WINDOW"]
    if last_ok is not None:
        since = max(since, last_ok)
    rows = db.session.execute(
        sa.select(AuditEvent.at, AuditEvent.payload)
        .where(*about, AuditEvent.action.in_(FAILURES), AuditEvent.at > since)
        .order_by(AuditEvent.seq.desc())
        .limit(_READ_AT_MOST)
    ).all()
    if not rows:
        return 0
    base, cap = config["LOGIN_DELAY_SECONDS"], config["LOGIN_DELAY_MAX_MINUTES"] * 60
    from_here = [at for at, payload in rows if _address(payload) == address]
    wait = timedelta()
    for times, free in (
        (from_here, config["LOGIN_MAX_FAILURES"]),
        ([at for at, _payload in rows], config["LOGIN_ACCOUNT_MAX_FAILURES"]),
    ):
        delay = growing_delay(len(times), free, base, cap)
        if delay:
            wait = max(wait, max(times) + timedelta(seconds=delay) - now)
    return math.ceil(wait.total_seconds()) if wait > timedelta() else 0


def _address_limits():
    return parse_many(current_app.config["LOGIN_ADDRESS_LIMIT"])


#: after its storage failed, how long the address limit counts in memory before trying it again
RETRY_STORAGE_SECONDS = 30
_FALLBACK = "rectify_login_limit_fallback"


def _counting(use):
    """Run `use(strategy)` on the limit's storage (Redis with several workers); while that does
    not answer, on this process's own memory, so that the limit still holds (per process)
    instead of lapsing, and Redis is tried again after RETRY_STORAGE_SECONDS."""
    state = current_app.extensions.setdefault(_FALLBACK, {"until": 0.0, "strategy": None})
    if time.monotonic() >= state["until"]:
        try:
            return use(limiter.limiter)
        except Exception:
            current_app.logger.warning(
                "sign-in address limit: its storage does not answer; counting in memory", exc_info=True
            )
            state["until"] = time.monotonic() + RETRY_STORAGE_SECONDS
    if state["strategy"] is None:
        state["strategy"] = type(limiter.limiter)(MemoryStorage())
    return use(state["strategy"])


def address_wait(address: str | None) -> int:
    """Seconds until `address` may try again, once it has failed too often over all accounts."""
    if not address or not limiter.enabled:
        return 0

    def wait(strategy) -> int:
        for item in _address_limits():
            if not strategy.test(item, _SCOPE, address):
                reset_at, _remaining = strategy.get_window_stats(item, _SCOPE, address)
                return max(1, math.ceil(reset_at - time.time()))
        return 0

    return _counting(wait)


def count_address_failure(address: str | None) -> None:
    if not address or not limiter.enabled:
        return

    def hit(strategy) -> None:
        for item in _address_limits():
            strategy.hit(item, _SCOPE, address)

    _counting(hit)
