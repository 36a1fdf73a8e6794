"""Locale selection: Simplified Chinese by default, English when the user asks for it."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session

#: Language of messages produced outside a request (CLI commands), which admins read.
CLI_LOCALE = "en"


def select_locale() -> str:
    """The session's chosen language, else `?lang=`, else the default (zh)."""
    if not has_request_context():
        return CLI_LOCALE
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    return "zh-CN" if locale.startswith("zh") else locale
