"""Helpers available in every template."""

from __future__ import annotations

import json
import re
from datetime import UTC

from flask import Flask
from flask_babel import format_datetime, get_locale
from markupsafe import Markup, escape

from portal.accounts.forms import LogoutForm
from portal.core.i18n import html_lang
from portal.shell.nav import nav_counts, nav_for_current_user, unread_notifications
from portal.shell.views import language_form

URL = re.compile(r"https?://[^\s<>\"']+")


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def _shell():
        return {
            "nav_entries": nav_for_current_user,
            "nav_counts": nav_counts,
            "unread_notifications": unread_notifications,
            "language_form": language_form,
            # formdata=None: rendering must never parse the request body (it may be the 413).
            "logout_form": lambda: LogoutForm(formdata=None),
            "html_lang": lambda: html_lang(str(get_locale())),
            "current_locale": lambda: str(get_locale()),
        }

    @app.template_filter("linkify")
    def _linkify(text: str) -> Markup:
        """Escape `text` and make its http(s) addresses links that leave no referrer."""
        parts, last = [], 0
        for match in URL.finditer(text):
            url = escape(match.group(0))
            parts += [
                escape(text[last : match.start()]),
                Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>').format(
                    url
                ),
            ]
            last = match.end()
        parts.append(escape(text[last:]))
        return Markup("").join(parts)

    @app.template_filter("fromjson")
    def _fromjson(text: str):

        return json.loads(text)

    @app.template_filter("datetime")
    def _datetime(value, fmt="yyyy-MM-dd HH:mm:ss"):
        """Show a stored naive-UTC time in the configured time zone."""
        if value is None:
            return ""

        return format_datetime(value.replace(tzinfo=UTC), fmt)
