"""Helpers available in every template."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_datetime, get_locale

from portal.accounts.forms import LogoutForm, role_label
from portal.core.nav import nav_counts, nav_for_current_user
from portal.core.views import language_form
from portal.i18n import html_lang


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def _shell():
        return {
            "nav_entries": nav_for_current_user,
            "nav_counts": nav_counts,
            "language_form": language_form,
            # formdata=None: rendering must never parse the request body (it may be the 413).
            "logout_form": lambda: LogoutForm(formdata=None),
            "role_label": role_label,
            "html_lang": lambda: html_lang(str(get_locale())),
            "current_locale": lambda: str(get_locale()),
        }

    @app.template_filter("datetime")
    def _datetime(value, fmt="yyyy-MM-dd HH:mm:ss"):
        """Show a stored naive-UTC time in the configured time zone."""
        if value is None:
            return ""
        from datetime import UTC

        return format_datetime(value.replace(tzinfo=UTC), fmt)
