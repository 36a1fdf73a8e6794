"""Configuration classes, selected by name; every setting can come from the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from workflows.roles import GLOBAL_ROLES

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class ConfigError(RuntimeError):
    """Raised when the configuration cannot be used safely."""


def _minutes_of_day_divisor(name: str, default: int) -> int:
    """A period in minutes that divides the day (5, 15, 60, 240 …), so that it stays regular."""
    value = _int_env(name, default)
    if value < 1 or (24 * 60) % value:
        raise ConfigError(f"{name}={value}: use a number of minutes that divides 1440 (15, 60, 240 …)")
    return value


def database_url_from_env(instance_path: Path) -> str:
    """Return the SQLAlchemy URL: `DATABASE_URL` if set, else a SQLite file in `instance/`."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance_path / 'rectify.db'}"
    # Accept the usual libpq-style spellings and route them to psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_or_create_secret(path: Path, nbytes: int = 32) -> str:
    """Read a secret from `path`, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    return value


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


#: The global roles whose accounts must sign in with a second factor under production.
MFA_ROLES_IN_PRODUCTION = ("admin", "office", "leader", "auditor")


def _roles_env(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of global roles; "none" (or an empty value) for none."""
    raw = os.environ.get(name)
    if raw is None:
        return tuple(default)
    roles = tuple(r.strip() for r in raw.split(",") if r.strip() and r.strip().lower() != "none")
    unknown = [r for r in roles if r not in GLOBAL_ROLES]
    if unknown:
        raise ConfigError(f"{name}: unknown role(s) {', '.join(unknown)}; use {', '.join(GLOBAL_ROLES)}")
    return roles


def cache_settings(redis_url: str) -> dict:
    """Flask-Caching's settings: Redis when `redis_url` is given, else a per-process cache."""
    if redis_url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "rectify:"}
    return {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}


class Config:
    """Settings shared by every environment."""

    NAME = "base"
    PRODUCTION = False
    DEMO_ALLOWED = True

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLITE_BUSY_TIMEOUT_MS = 5000
    #: the organisation running the portal, in the header band and the footer (单位名称)
    ORGANISATION_NAME = ""
    #: attempts at one e-mail before the outbox gives up on it (pauses of 1, 2, 4 … 60 minutes)
    MAIL_MAX_ATTEMPTS = 10

    #: anonymous public pages served from a page cache keyed by the audit chain's head
    #: (portal.core.http_cache); their ETags and 304s work either way
    PUBLIC_PAGE_CACHE = True
    #: signed-in users' read pages (home, worklists, item, inspection, audit log, dashboard)
    #: served from the same page cache, per user (portal.core.http_cache.private_page)
    PRIVATE_PAGE_CACHE = True

    SESSION_COOKIE_NAME = "rectify_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_REFRESH_EACH_REQUEST = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the (idle-limited) session

    # Werkzeug's scrypt at its default work factor (n=2**15, r=8, p=1); a method, not a secret.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105

    # Sign-in throttling (portal/accounts/throttle.py). Failed attempts on one account from
    # one address: the first LOGIN_MAX_FAILURES are free, then each further attempt waits
    # LOGIN_DELAY_SECONDS, doubled per failure, at most LOGIN_DELAY_MAX_MINUTES. The whole
    # account (every address) is delayed the same way only after LOGIN_ACCOUNT_MAX_FAILURES.
    # Failures count inside LOGIN_FAILURE_WINDOW, since the account's last sign-in.
    LOGIN_MAX_FAILURES = 5
    LOGIN_ACCOUNT_MAX_FAILURES = 20
    LOGIN_DELAY_SECONDS = 30
    LOGIN_DELAY_MAX_MINUTES = 15
    LOGIN_FAILURE_WINDOW = timedelta(hours=1)
    #: failed sign-ins allowed per client address, over all login names (Flask-Limiter syntax)
    LOGIN_ADDRESS_LIMIT = "20 per 15 minutes"

    # Two-step sign-in (portal/accounts/mfa.py): the roles that must enrol; none outside
    # production, so that the demo and the tests sign in with a password alone.
    MFA_REQUIRED_ROLES: tuple[str, ...] = ()
    MFA_ISSUER = "Rectify"
    #: how long the second step may take after the password step
    MFA_PENDING_SECONDS = 300
    #: how long a re-entered password covers the sensitive admin actions
    REAUTH_MINUTES = 5
    #: Strict-Transport-Security max-age; 0 sends no header (plain-http development)
    HSTS_SECONDS = 0

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")

    BOOTSTRAP_SERVE_LOCAL = True

    RATELIMIT_HEADERS_ENABLED = True
    # Redis gone: count in each process's memory until it answers again (limits hold, per
    # process), and give up on it within a second rather than hang the request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
    FEEDBACK_RATE_LIMIT = "5 per minute;30 per day"
    #: requests to the REST API per token (or, without one, per address)
    API_RATE_LIMIT = "300 per minute"
    LOOKUP_RATE_LIMIT = "10 per minute"

    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    EVIDENCE_EXTENSIONS = ("pdf", "docx", "xlsx", "doc", "xls", "jpg", "jpeg", "png", "ofd", "zip")

    @classmethod
    def from_env(cls, instance_path: Path, resolve_secret: bool = True) -> dict:
        """Return the settings that depend on the environment and the instance folder.

        With `resolve_secret` false (the caller supplies SECRET_KEY itself) no key is read,
        required or generated.
        """
        idle = _int_env("IDLE_TIMEOUT_MINUTES", 30)
        settings = {
            "SQLALCHEMY_DATABASE_URI": database_url_from_env(instance_path),
            "PERMANENT_SESSION_LIFETIME": timedelta(minutes=idle),
            # However busy, a login session ends this long after sign-in (checked on the server).
            "ABSOLUTE_SESSION_LIFETIME": timedelta(hours=_int_env("SESSION_MAX_HOURS", 12)),
            "LOGIN_MAX_FAILURES": _int_env("LOGIN_MAX_FAILURES", cls.LOGIN_MAX_FAILURES),
            "LOGIN_ACCOUNT_MAX_FAILURES": _int_env(
                "LOGIN_ACCOUNT_MAX_FAILURES", cls.LOGIN_ACCOUNT_MAX_FAILURES
            ),
            "LOGIN_DELAY_SECONDS": _int_env("LOGIN_DELAY_SECONDS", cls.LOGIN_DELAY_SECONDS),
            "LOGIN_DELAY_MAX_MINUTES": _int_env("LOGIN_DELAY_MAX_MINUTES", cls.LOGIN_DELAY_MAX_MINUTES),
            "LOGIN_FAILURE_WINDOW": timedelta(minutes=_int_env("LOGIN_FAILURE_WINDOW_MINUTES", 60)),
            "LOGIN_ADDRESS_LIMIT": os.environ.get("LOGIN_ADDRESS_LIMIT", "").strip()
            or cls.LOGIN_ADDRESS_LIMIT,
            "MFA_REQUIRED_ROLES": _roles_env("MFA_REQUIRED_ROLES", cls.MFA_REQUIRED_ROLES),
            "REAUTH_MINUTES": _int_env("REAUTH_MINUTES", cls.REAUTH_MINUTES),
            # gunicorn reads WEB_CONCURRENCY as its worker count; `flask deploy check` reads it too
            "WEB_CONCURRENCY": _int_env("WEB_CONCURRENCY", 1),
            "MAX_CONTENT_LENGTH": _int_env("MAX_UPLOAD_MB", 25) * 1024 * 1024,
            "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL", "").strip() or "memory://",
            "TRUSTED_PROXIES": _int_env("TRUSTED_PROXIES", 0),
            "SMTP_HOST": os.environ.get("SMTP_HOST", "").strip(),
            "SMTP_PORT": _int_env("SMTP_PORT", 25),
            "SMTP_FROM": os.environ.get("SMTP_FROM", "rectify@localhost").strip(),
            "ORGANISATION_NAME": os.environ.get("ORGANISATION_NAME", cls.ORGANISATION_NAME).strip(),
            "EVIDENCE_DIR": os.environ.get("EVIDENCE_DIR", str(instance_path / "evidence")),
            "AUDIT_CHECKPOINT_KEY_FILE": os.environ.get(
                "AUDIT_CHECKPOINT_KEY_FILE", str(instance_path / "checkpoint.key")
            ),
            # Signed checkpoints of the chain head; copy them somewhere the database's
            # administrators cannot write (see README).
            "AUDIT_CHECKPOINT_DIR": os.environ.get(
                "AUDIT_CHECKPOINT_DIR", str(instance_path / "checkpoints")
            ),
            # How long the auditor's verification page may run before it reports "incomplete".
            "AUDIT_VERIFY_BUDGET_SECONDS": _int_env("AUDIT_VERIFY_BUDGET_SECONDS", 20),
            # The task queue (portal.core.queue): Redis when REDIS_URL is set, else this file.
            "REDIS_URL": os.environ.get("REDIS_URL", "").strip(),
            # Costly figures (the dashboard's), keyed by the data's state (portal.core.cache):
            # in each process by default, shared in Redis when REDIS_URL is set.
            **cache_settings(os.environ.get("REDIS_URL", "").strip()),
            "TASKS_DB": os.environ.get("TASKS_DB", str(instance_path / "tasks.sqlite3")),
            # The hour (UTC) of the worker's daily supervision pass; 0 is 08:00 in Beijing.
            "SUPERVISION_HOUR_UTC": _int_env("SUPERVISION_HOUR_UTC", 0),
            # The worker signs a checkpoint each time the minute of the day is a multiple.
            "AUDIT_CHECKPOINT_EVERY_MINUTES": _minutes_of_day_divisor("AUDIT_CHECKPOINT_EVERY_MINUTES", 60),
            # /readyz: the least free space on the evidence volume, and the oldest the newest
            # checkpoint may be (default: three of the worker's intervals) before it says "not ready".
            "READY_MIN_FREE_MB": _int_env("READY_MIN_FREE_MB", 200),
            "READY_CHECKPOINT_MAX_AGE_MINUTES": _int_env(
                "READY_CHECKPOINT_MAX_AGE_MINUTES",
                3 * _minutes_of_day_divisor("AUDIT_CHECKPOINT_EVERY_MINUTES", 60),
            ),
        }
        extensions = os.environ.get("EVIDENCE_EXTENSIONS", "").strip()
        if extensions:
            settings["EVIDENCE_EXTENSIONS"] = tuple(
                e.strip().lower().lstrip(".") for e in extensions.split(",") if e.strip()
            )
        if resolve_secret:
            settings["SECRET_KEY"] = cls.secret_key(instance_path)
        return settings

    @classmethod
    def secret_key(cls, instance_path: Path) -> str:
        """`SECRET_KEY` from the environment; outside production, generated once into instance/."""
        secret = os.environ.get("SECRET_KEY", "").strip()
        if secret:
            return secret
        if cls.PRODUCTION:
            raise ConfigError(
                "SECRET_KEY is not set. The production configuration refuses to start without it."
            )
        return load_or_create_secret(instance_path / "secret_key")


class DevelopmentConfig(Config):
    NAME = "development"
    ORGANISATION_NAME = "深圳市南山区科技创新局"  # the demo's (its seed notice's) organisation


class TestingConfig(Config):
    NAME = "testing"
    TESTING = True
    # Still scrypt, with a lower work factor so that the suite does not spend minutes hashing.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105


class ProductionConfig(Config):
    NAME = "production"
    PRODUCTION = True
    DEMO_ALLOWED = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    MFA_REQUIRED_ROLES = MFA_ROLES_IN_PRODUCTION
    HSTS_SECONDS = 365 * 24 * 3600
    # After a database restart or failover, each pooled connection is tested before use, so
    # that no worker answers its next request with the "database unreachable" page.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}


CONFIGS = {c.NAME: c for c in (DevelopmentConfig, TestingConfig, ProductionConfig)}


def config_class(name: str | None) -> type[Config]:
    """Return the configuration class called `name` (default: `RECTIFY_CONFIG` or development)."""
    name = (name or os.environ.get("RECTIFY_CONFIG") or "development").strip()
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"unknown configuration {name!r}; choose one of {', '.join(sorted(CONFIGS))}"
        ) from None
