"""Rectify (巡察整改督办平台): the application factory, the top floor that assembles the rest."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal.accounts.cli import users_cli
from portal.accounts.views import bp as accounts_bp
from portal.accounts.views import enrolment_gate
from portal.api.views import init_api
from portal.auditing.cli import audit_cli
from portal.auditing.views import bp as auditing_bp
from portal.backup.cli import backup_cli
from portal.core import migrations
from portal.core.cache import forget_request_memo
from portal.core.config import PROJECT_ROOT, config_class
from portal.core.database import configure_sqlite_engine, reset_write_intent, set_write_intent
from portal.core.deploy import deploy_cli
from portal.core.extensions import babel, bootstrap, cache, csrf, db, limiter, login_manager
from portal.core.handlers import register_error_pages
from portal.core.i18n import select_locale
from portal.core.mail import declare_delivery, mail_cli
from portal.core.queue import make_queue
from portal.core.titles import register_titles
from portal.deadlines.views import bp as deadlines_bp
from portal.demo.cli import demo_cli
from portal.evidence.views import bp as evidence_bp
from portal.feedback.views import bp as feedback_bp
from portal.inspections.summary import bp as item_summary_bp
from portal.inspections.views import bp as inspections_bp
from portal.ledger.cli import ledger_cli
from portal.ledger.views import bp as ledger_bp
from portal.notices.cli import notice_cli
from portal.notices.views import bp as notices_bp
from portal.notifications.views import bp as notifications_bp
from portal.public.views import bp as public_bp
from portal.search.cli import search_cli
from portal.search.views import bp as search_bp
from portal.sharing.views import bp as sharing_bp
from portal.shell.health import bp as health_bp
from portal.shell.templating import register_template_helpers
from portal.shell.views import bp as shell_bp
from portal.supervision.cli import supervise_cli
from portal.supervision.views import bp as supervision_bp
from portal.versions.views import bp as versions_bp
from portal.workflow.views import bp as workflow_bp

BLUEPRINTS = (
    shell_bp,
    health_bp,
    accounts_bp,
    auditing_bp,
    workflow_bp,
    inspections_bp,
    item_summary_bp,
    evidence_bp,
    versions_bp,
    sharing_bp,
    notices_bp,
    ledger_bp,
    public_bp,
    feedback_bp,
    notifications_bp,
    deadlines_bp,
    supervision_bp,
    search_bp,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})
#: powerful browser features the portal never uses, refused for it and anything it embeds
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), xr-spatial-tracking=()"
)


class IdConverter(IntegerConverter):
    """`<int:…>` in every URL: an id, so at most what the database's integer columns hold. A
    larger number matches no route (404), rather than overflowing the database driver."""

    MAX = 2**31 - 1

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", self.MAX)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: str | Mapping[str, Any] | None = None) -> Flask:
    """Create the app. `config` names a configuration, or maps settings over the chosen one.

    A mapping may name the base configuration under the key "CONFIG"; settings in it win over
    both the class and the environment.
    """
    overrides = dict(config) if isinstance(config, Mapping) else {}
    name = overrides.pop("CONFIG", None) if overrides else config
    cls = config_class(name)

    app = Flask(
        __name__,
        instance_path=overrides.pop("INSTANCE_PATH", None) or str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.url_map.converters["int"] = IdConverter  # before any route is added
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_object(cls)
    app.config.update(cls.from_env(Path(app.instance_path), resolve_secret="SECRET_KEY" not in overrides))
    app.config.update(overrides)

    _init_extensions(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    # Flask-Migrate (alembic) only when migrating: `flask db …`, or migrations.enable(app)
    migrations.register_commands(app)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "portal" / "translations"),
    )
    bootstrap.init_app(app)
    cache.init_app(app)
    limiter.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = None  # sessions are revocable server-side instead
    # The task queue (Redis with REDIS_URL, else a SQLite file): the web process hands it the
    # outbox after each commit that queued mail; the worker runs the same app's queue.
    queue = make_queue(app.config)
    app.extensions["rectify.queue"] = queue
    declare_delivery(app, queue)


def _register_blueprints(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    init_api(app)  # the REST API's blueprint, with its OpenAPI document
    for group in (
        users_cli,
        audit_cli,
        demo_cli,
        notice_cli,
        ledger_cli,
        supervise_cli,
        deploy_cli,
        backup_cli,
        mail_cli,
        search_cli,
    ):
        app.cli.add_command(group)
    register_error_pages(app)
    register_titles(app)
    register_template_helpers(app)


def _register_request_hooks(app: Flask) -> None:
    # what a request remembers (portal.core.cache.request_memo) starts and ends with it
    app.before_request(forget_request_memo)
    app.teardown_request(forget_request_memo)

    @app.before_request
    def _declare_write_intent():
        # Reads begin DEFERRED transactions so that readers never wait for each other.
        g._write_intent_token = set_write_intent(request.method not in SAFE_METHODS)

    # An account whose role requires two-step verification and that has none is held on its
    # enrolment (after CSRF protection's own check, registered by init_app).
    app.before_request(enrolment_gate)

    @app.teardown_request
    def _reset_write_intent(_exc):
        token = g.pop("_write_intent_token", None)
        if token is not None:
            reset_write_intent(token)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("HSTS_SECONDS"):
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
            )
        if request.endpoint not in STATIC_ENDPOINTS and _signed_in():
            # what a signed-in page shows stays out of every cache (shared or the browser's)
            response.headers["Cache-Control"] = "no-store"
        return response


def _signed_in() -> bool:
    """A signed-in user, or one between the two steps of signing in."""
    try:
        return bool(current_user.is_authenticated) or "mfa_pending" in session
    except Exception:  # a failed request's session: the error page stays uncached anyway
        return True
